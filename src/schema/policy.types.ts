import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import type { CapCounter, CapWindow, PolicyAuthority, PolicyMode, PolicyScope, RuleEffect } from "../policy/policy-types";
import type { PolicyChange } from "../policies/policy-codec";
import { MoneyScalar } from "./money.scalar";

/** GraphQL enums over the evaluator's string unions (src/policy/policy-types.ts): same values. */
export const PolicyScopeEnum = { GLOBAL: "GLOBAL", ROLE: "ROLE", USER: "USER", AGENT: "AGENT" } as const;
registerEnumType(PolicyScopeEnum, { name: "PolicyScope", description: "Where a policy attaches, broadest first: AGENT > USER > ROLE > GLOBAL in specificity." });

export const RuleEffectEnum = { ALLOW: "ALLOW", DENY: "DENY", REQUIRE_APPROVAL: "REQUIRE_APPROVAL" } as const;
registerEnumType(RuleEffectEnum, { name: "RuleEffect" });

export const CapCounterEnum = { AGENT: "AGENT", OWNER: "OWNER", GLOBAL: "GLOBAL", RUN: "RUN" } as const;
registerEnumType(CapCounterEnum, {
  name: "CapCounter",
  description: "Whose spend a cap counts: this agent, all agents of its owner, or all agents (GLOBAL policies only).",
});

export const CapWindowEnum = { MINUTE: "MINUTE", HOUR: "HOUR", DAY: "DAY", WEEK: "WEEK", MONTH: "MONTH", TOTAL: "TOTAL" } as const;
registerEnumType(CapWindowEnum, { name: "CapWindow", description: "UTC calendar windows (a WEEK starts Monday); TOTAL never resets." });

export const CapMeasureEnum = { COST: "COST", ACTIONS: "ACTIONS" } as const;
registerEnumType(CapMeasureEnum, { name: "CapMeasure", description: "What a cap counts: spend (COST) or allowed actions (ACTIONS, a velocity limit)." });

export const PolicyModeEnum = { ENFORCE: "ENFORCE", SHADOW: "SHADOW" } as const;
registerEnumType(PolicyModeEnum, {
  name: "PolicyMode",
  description: "ENFORCE: the policy decides. SHADOW: audit only; evaluated for the would-be decision, never blocks or charges.",
});

export const PolicyAuthorityEnum = { OVERRIDE: "OVERRIDE", RESTRICTION: "RESTRICTION" } as const;
registerEnumType(PolicyAuthorityEnum, {
  name: "PolicyAuthority",
  description:
    "With what authority a policy was written, set by each write from the writer's permissions. OVERRIDE (written with policies:write): part of the chain, replacing broader rules and caps. RESTRICTION (written by an agent's owner without policies:write): a layer beside the chain; every decision takes the stricter of the chain and the layer, and its caps apply in addition, so it can never loosen anything.",
});

export const PolicyChangeEnum = {
  CREATED: "CREATED",
  UPDATED: "UPDATED",
  ENABLED: "ENABLED",
  DISABLED: "DISABLED",
  MODE_CHANGED: "MODE_CHANGED",
  DELETED: "DELETED",
} as const;
registerEnumType(PolicyChangeEnum, { name: "PolicyChange", description: "What a policy version changed." });

@ObjectType("ActionRule", { description: "Which actions a policy allows, denies or holds for approval." })
export class ActionRuleView {
  @Field(() => ID, { description: "Stable across versions while the policy keeps a rule with this pattern." })
  id!: string;

  @Field(() => String, { description: "`email.send` (exact), `llm.*` (one or more further segments) or `*` (everything)." })
  pattern!: string;

  @Field(() => RuleEffectEnum)
  effect!: RuleEffect;

  @Field(() => MoneyScalar, { nullable: true, description: "A cost above this is denied; null: no per-action limit." })
  maxCostPerAction!: bigint | null;

  @Field(() => MoneyScalar, {
    nullable: true,
    description: "How far above its estimate an action this rule decides may be settled; null: up to maxCostPerAction, or without one up to twice the estimate.",
  })
  overrunAllowance!: bigint | null;

  @Field(() => Boolean, { description: "Applies whatever narrower scopes say (can only make decisions stricter)." })
  locked!: boolean;
}

@ObjectType("SpendCap", { description: "A limit on spend, or on a number of actions, per counter and window, optionally for actions matching a pattern." })
export class SpendCapView {
  @Field(() => ID, { description: "Stable across versions while the policy keeps a cap for this (per, window)." })
  id!: string;

  @Field(() => CapCounterEnum)
  per!: CapCounter;

  @Field(() => CapWindowEnum)
  window!: CapWindow;

  @Field(() => MoneyScalar)
  limit!: bigint;

  @Field(() => MoneyScalar, { description: "How far a settle above the estimate may take the counter past the limit (0: not at all)." })
  overrunAllowance!: bigint;

  @Field(() => Boolean, { description: "Applies as well as narrower caps of the same signature (per, window, measure, pattern) instead of being replaced." })
  locked!: boolean;

  @Field(() => CapMeasureEnum, { description: "COST: limit is spend; ACTIONS: limit is a number of allowed actions (a velocity limit)." })
  measure!: "COST" | "ACTIONS";

  @Field(() => String, { nullable: true, description: "Only actions matching this pattern count and are checked; null: every action." })
  pattern!: string | null;

  @Field(() => Boolean, { description: "An action that would exceed a soft cap is held for approval instead of denied." })
  soft!: boolean;

  @Field(() => [Int], { description: "Percentages of the limit whose first crossing in a window sends one alert." })
  thresholds!: number[];
}

@ObjectType("Policy", { description: "A governance policy attached to a scope. Each change makes a new version." })
export class PolicyView {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => PolicyScopeEnum)
  scope!: PolicyScope;

  @Field(() => String, { nullable: true, description: "Role name (ROLE), user id (USER), agent id (AGENT); null for GLOBAL." })
  scopeId!: string | null;

  @Field(() => Boolean)
  enabled!: boolean;

  @Field(() => PolicyModeEnum)
  mode!: PolicyMode;

  @Field(() => PolicyAuthorityEnum, { description: "OVERRIDE or RESTRICTION (a layer that can only restrict): see PolicyAuthority." })
  authority!: PolicyAuthority;

  @Field(() => Int, { description: "1 at creation, +1 with every change." })
  version!: number;

  @Field(() => Boolean, { description: "The seeded default GLOBAL policy: editable, not deletable." })
  builtIn!: boolean;

  @Field(() => [ActionRuleView])
  rules!: ActionRuleView[];

  @Field(() => [SpendCapView])
  caps!: SpendCapView[];

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => ID, { nullable: true, description: "The user who created it; null for the seeded default." })
  createdBy!: string | null;

  @Field(() => Date)
  updatedAt!: Date;

  @Field(() => ID, { nullable: true })
  updatedBy!: string | null;

  @Field(() => Date, { nullable: true, description: "Set once deleted; its versions stay readable." })
  deletedAt!: Date | null;
}

@ObjectType("PolicyVersion", { description: "One version of a policy, whole, as the change that made it left it." })
export class PolicyVersionView {
  @Field(() => ID)
  policyId!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => PolicyChangeEnum)
  change!: PolicyChange;

  @Field(() => Date)
  changedAt!: Date;

  @Field(() => ID, { nullable: true, description: "Who made the change; null for the seed." })
  changedBy!: string | null;

  @Field(() => PolicyView)
  snapshot!: PolicyView;
}

@InputType("ActionRuleInput")
export class ActionRuleInput {
  @Field(() => String, { description: "`email.send`, `llm.*` or `*`; one rule per pattern in a policy." })
  pattern!: string;

  @Field(() => RuleEffectEnum)
  effect!: RuleEffect;

  @Field(() => MoneyScalar, { nullable: true, description: "At least 0." })
  maxCostPerAction?: bigint | null;

  @Field(() => MoneyScalar, {
    nullable: true,
    description: "How far above its estimate an action this rule decides may be settled. Default: up to maxCostPerAction, or without one up to twice the estimate.",
  })
  overrunAllowance?: bigint | null;

  @Field(() => Boolean, { nullable: true, description: "Default false. Needs policies:write." })
  locked?: boolean | null;
}

@InputType("SpendCapInput")
export class SpendCapInput {
  @Field(() => CapCounterEnum, {
    description:
      "GLOBAL only in a GLOBAL policy; RUN counts the actions of one run (those that name it). One cap per (per, window, measure, pattern) in a policy.",
  })
  per!: CapCounter;

  @Field(() => CapWindowEnum)
  window!: CapWindow;

  @Field(() => MoneyScalar, { nullable: true, description: "A spend limit, at least 0. Exactly one of limit and maxActions." })
  limit?: bigint | null;

  @Field(() => Int, { nullable: true, description: "A velocity limit: at most this many allowed actions in the window. Exactly one of limit and maxActions." })
  maxActions?: number | null;

  @Field(() => MoneyScalar, { nullable: true, description: "How far a settle above the estimate may take the counter past the limit. Default 0." })
  overrunAllowance?: bigint | null;

  @Field(() => Boolean, { nullable: true, description: "Default false. Needs policies:write." })
  locked?: boolean | null;

  @Field(() => String, { nullable: true, description: "Count and check only actions matching this pattern (as rules match). A cap per OWNER with a pattern, maxActions or a MINUTE window belongs in a USER, ROLE or GLOBAL policy." })
  pattern?: string | null;

  @Field(() => Boolean, { nullable: true, description: "Default false. Soft: an action that would exceed it is held for approval (PENDING_APPROVAL) instead of denied." })
  soft?: boolean | null;

  @Field(() => [Int], { nullable: true, description: "Alert thresholds, percentages of the limit (1 to 100, at most 5): crossing one sends one notification per window." })
  thresholds?: number[] | null;
}

@InputType("PolicyInput", {
  description:
    "A policy. On create, absent fields take their defaults (enabled, ENFORCE, no rules, no caps); on update they stay as they are, a given list replaces the old one, and scope and scopeId cannot change.",
})
export class PolicyInput {
  @Field(() => String, { description: "1 to 100 characters." })
  name!: string;

  @Field(() => PolicyScopeEnum)
  scope!: PolicyScope;

  @Field(() => String, { nullable: true, description: "Role name, user id or agent id; none for GLOBAL. Must exist." })
  scopeId?: string | null;

  @Field(() => Boolean, { nullable: true })
  enabled?: boolean | null;

  @Field(() => PolicyModeEnum, { nullable: true, description: "ENFORCE (default) or SHADOW (audit only)." })
  mode?: PolicyMode | null;

  @Field(() => [ActionRuleInput], { nullable: true, description: "At most 200." })
  rules?: ActionRuleInput[] | null;

  @Field(() => [SpendCapInput], { nullable: true, description: "At most 50." })
  caps?: SpendCapInput[] | null;
}

export const EffectiveRuleStatusEnum = { DECIDES: "DECIDES", APPLIES: "APPLIES", OVERRIDDEN: "OVERRIDDEN" } as const;
registerEnumType(EffectiveRuleStatusEnum, {
  name: "EffectiveRuleStatus",
  description:
    "DECIDES: the effect comes from this rule. APPLIES: does not decide but still constrains (a locked floor, or a tied rule whose limit applies). OVERRIDDEN: a more specific scope or pattern decides.",
});

@ObjectType("PolicyRef", { description: "A policy version taking part in a view or a decision." })
export class PolicyRefView {
  @Field(() => ID)
  id!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => String)
  name!: string;

  @Field(() => PolicyScopeEnum)
  scope!: PolicyScope;

  @Field(() => String, { nullable: true })
  scopeId!: string | null;

  @Field(() => PolicyModeEnum)
  mode!: PolicyMode;

  @Field(() => PolicyAuthorityEnum, { description: "RESTRICTION: a layer written by the agent's owner, which can only restrict." })
  authority!: PolicyAuthority;
}

/** The policy version a rule or cap belongs to: fields shared by RuleRef and CapRef. */
@ObjectType("PolicyPartRef")
export abstract class PolicyPartRef {
  @Field(() => ID)
  policyId!: string;

  @Field(() => Int)
  policyVersion!: number;

  @Field(() => String)
  policyName!: string;

  @Field(() => PolicyScopeEnum)
  scope!: PolicyScope;

  @Field(() => String, { nullable: true })
  scopeId!: string | null;

  @Field(() => PolicyModeEnum)
  mode!: PolicyMode;

  @Field(() => PolicyAuthorityEnum, { description: "RESTRICTION: a layer written by the agent's owner, which can only restrict." })
  authority!: PolicyAuthority;
}

@ObjectType("RuleRef", { description: "A rule together with the policy version it belongs to." })
export class RuleRefView extends PolicyPartRef {
  @Field(() => ID)
  ruleId!: string;

  @Field(() => String)
  pattern!: string;

  @Field(() => RuleEffectEnum)
  effect!: RuleEffect;

  @Field(() => Boolean)
  locked!: boolean;

  @Field(() => MoneyScalar, { nullable: true })
  maxCostPerAction!: bigint | null;
}

@ObjectType("EffectiveRule")
export class EffectiveRuleView {
  @Field(() => RuleRefView)
  rule!: RuleRefView;

  @Field(() => EffectiveRuleStatusEnum)
  status!: "DECIDES" | "APPLIES" | "OVERRIDDEN";

  @Field(() => RuleRefView, { nullable: true, description: "For APPLIES and OVERRIDDEN: the rule that won." })
  by!: RuleRefView | null;
}

@ObjectType("EffectivePattern", {
  description: "What applies to the actions this pattern is the most specific pattern of in the chain.",
})
export class EffectivePatternView {
  @Field(() => String)
  pattern!: string;

  @Field(() => RuleEffectEnum, { description: "The final effect." })
  effect!: RuleEffect;

  @Field(() => RuleRefView, { nullable: true, description: "Null when no rule of the chain matches: the default deny applies (a restriction layer cannot allow)." })
  decidingRule!: RuleRefView | null;

  @Field(() => Boolean, { description: "A locked rule of a broader scope or pattern made the chain's effect stricter." })
  lockedOverride!: boolean;

  @Field(() => Boolean, { description: "A restriction layer (authority RESTRICTION) made the effect stricter than the chain's: its rule decides." })
  restricted!: boolean;

  @Field(() => MoneyScalar, { nullable: true, description: "The tightest max cost per action that applies." })
  maxCostPerAction!: bigint | null;

  @Field(() => [EffectiveRuleView], { description: "Every rule written with exactly this pattern, broadest scope first." })
  rules!: EffectiveRuleView[];
}

@ObjectType("CapRef", { description: "A spend cap together with the policy version it belongs to." })
export class CapRefView extends PolicyPartRef {
  @Field(() => ID)
  capId!: string;

  @Field(() => CapCounterEnum)
  per!: CapCounter;

  @Field(() => CapWindowEnum)
  window!: CapWindow;

  @Field(() => MoneyScalar)
  limit!: bigint;

  @Field(() => Boolean)
  locked!: boolean;

  @Field(() => CapMeasureEnum, { description: "COST: limit is spend; ACTIONS: limit is a number of allowed actions (a velocity limit)." })
  measure!: "COST" | "ACTIONS";

  @Field(() => String, { nullable: true, description: "Only actions matching this pattern count and are checked; null: every action." })
  pattern!: string | null;

  @Field(() => Boolean, { description: "An action that would exceed a soft cap is held for approval instead of denied." })
  soft!: boolean;

  @Field(() => [Int], { description: "Percentages of the limit whose first crossing in a window sends one alert." })
  thresholds!: number[];
}

@ObjectType("OverriddenCap")
export class OverriddenCapView {
  @Field(() => CapRefView)
  cap!: CapRefView;

  @Field(() => [CapRefView], { description: "The deciding scope's caps that replace it." })
  by!: CapRefView[];
}

@ObjectType("EffectiveCaps", {
  description: "The caps for one (per, window): the most specific scope's, plus locked broader ones, plus every restriction layer's.",
})
export class EffectiveCapsView {
  @Field(() => CapCounterEnum)
  per!: CapCounter;

  @Field(() => CapWindowEnum)
  window!: CapWindow;

  @Field(() => CapMeasureEnum)
  measure!: "COST" | "ACTIONS";

  @Field(() => String, { nullable: true })
  pattern!: string | null;

  @Field(() => PolicyScopeEnum)
  decidingScope!: PolicyScope;

  @Field(() => [CapRefView], { description: "Caps that must all have room for an action's cost." })
  applied!: CapRefView[];

  @Field(() => [OverriddenCapView])
  overridden!: OverriddenCapView[];
}

@ObjectType("EffectivePolicy", { description: "The merged view of an agent's policy chain, as the evaluator resolves it." })
export class EffectivePolicyView {
  @Field(() => ID)
  agentId!: string;

  @Field(() => ID)
  ownerId!: string;

  @Field(() => [String], { description: "The owner's roles, inheritance resolved: the ROLE policies of these apply." })
  ownerRoles!: string[];

  @Field(() => [PolicyRefView], { description: "The enabled policies the view is built from, broadest scope first." })
  policies!: PolicyRefView[];

  @Field(() => [EffectivePatternView], { description: "One entry per distinct pattern, most specific first." })
  rules!: EffectivePatternView[];

  @Field(() => [EffectiveCapsView])
  caps!: EffectiveCapsView[];
}
