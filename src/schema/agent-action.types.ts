import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { PageInfo } from "./page-info.type";
import { MoneyScalar } from "./money.scalar";
import { CapCounterEnum, CapMeasureEnum, CapWindowEnum, PolicyPartRef, PolicyRefView, RuleRefView } from "./policy.types";
import type { CapCounter, CapWindow } from "../policy/policy-types";

export const DecisionOutcomeEnum = { ALLOWED: "ALLOWED", DENIED: "DENIED", PENDING_APPROVAL: "PENDING_APPROVAL" } as const;
export type DecisionOutcome = keyof typeof DecisionOutcomeEnum;
registerEnumType(DecisionOutcomeEnum, { name: "DecisionOutcome", description: "What the policy engine decided." });

export const AgentActionStatusEnum = {
  RESERVED: "RESERVED",
  SETTLED: "SETTLED",
  CANCELLED: "CANCELLED",
  EXPIRED: "EXPIRED",
  PENDING_APPROVAL: "PENDING_APPROVAL",
  REJECTED: "REJECTED",
  DENIED: "DENIED",
} as const;
export type AgentActionStatus = keyof typeof AgentActionStatusEnum;
registerEnumType(AgentActionStatusEnum, {
  name: "AgentActionStatus",
  description:
    "RESERVED: allowed, the estimate held until settled, cancelled or expired. PENDING_APPROVAL: held for an approver. SETTLED, CANCELLED, EXPIRED, REJECTED, DENIED: final.",
});

@InputType()
export class AgentActionInput {
  @Field(() => String, { description: "The action name, e.g. `llm.completion`, `email.send`." })
  action!: string;

  @Field(() => String, { nullable: true })
  resource?: string | null;

  @Field(() => MoneyScalar, { description: "Micro-units reserved against every applicable cap when allowed." })
  estimatedCost!: bigint;

  @Field(() => String, { nullable: true, description: "A retry with the same key returns the first decision and charges once." })
  idempotencyKey?: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: "Up to 8 KiB of JSON, kept with the action." })
  metadata?: Record<string, unknown> | null;

  @Field(() => ID, {
    nullable: true,
    description: "The run this action belongs to: one of the calling agent's runs (else NOT_FOUND), not finished (else CONFLICT). Part of the input an idempotency key stands for.",
  })
  runId?: string | null;
}

@ObjectType({ description: "Why a decision went the way it did: the exact rule or cap, with its numbers." })
export class DecisionReason {
  @Field(() => String, { description: "RULE_ALLOW, RULE_DENY, RULE_REQUIRE_APPROVAL, NO_MATCHING_RULE, COST_OVER_RULE_MAX, CAP_EXCEEDED, SOFT_CAP_EXCEEDED." })
  code!: string;

  @Field(() => String)
  message!: string;

  @Field(() => String, { nullable: true })
  scope?: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The authority of the policy the rule or cap belongs to: OVERRIDE (the chain) or RESTRICTION (a layer written by the agent's owner).",
  })
  authority?: string | null;

  @Field(() => ID, { nullable: true })
  policyId?: string | null;

  @Field(() => Int, { nullable: true })
  policyVersion?: number | null;

  @Field(() => ID, { nullable: true })
  ruleId?: string | null;

  @Field(() => String, { nullable: true })
  pattern?: string | null;

  @Field(() => ID, { nullable: true })
  capId?: string | null;

  @Field(() => String, { nullable: true, description: "The cap's counter kind: AGENT, OWNER or GLOBAL." })
  per?: string | null;

  @Field(() => String, { nullable: true })
  window?: string | null;

  @Field(() => String, { nullable: true, description: "The spend counter the cap read." })
  counter?: string | null;

  @Field(() => MoneyScalar, {
    nullable: true,
    description: "The rule's max cost per action or the cap's limit. For a GLOBAL cap, null unless you may read everyone's spend (spend:read).",
  })
  limit?: string | null;

  @Field(() => MoneyScalar, {
    nullable: true,
    description: "Spend on the counter before this action. For a GLOBAL cap, null unless you may read everyone's spend (spend:read).",
  })
  spent?: string | null;

  @Field(() => MoneyScalar, { nullable: true })
  cost?: string | null;
}

@ObjectType({ description: "An action an agent submitted, and where it stands." })
export class AgentAction {
  @Field(() => ID, { description: "Also the id of its decision (POLICY_DENIED carries it as decisionId)." })
  id!: string;

  @Field(() => ID)
  agentId!: string;

  @Field(() => ID)
  ownerId!: string;

  @Field(() => String)
  action!: string;

  @Field(() => String, { nullable: true })
  resource!: string | null;

  @Field(() => AgentActionStatusEnum)
  status!: AgentActionStatus;

  @Field(() => DecisionOutcomeEnum, { description: "The decision taken when it was submitted." })
  decision!: DecisionOutcome;

  @Field(() => [DecisionReason])
  reasons!: DecisionReason[];

  @Field(() => DecisionOutcomeEnum, { nullable: true, description: "What SHADOW policies would have decided; null when none applied." })
  shadowDecision!: DecisionOutcome | null;

  @Field(() => MoneyScalar)
  estimatedCost!: bigint;

  @Field(() => MoneyScalar, { nullable: true })
  actualCost!: bigint | null;

  @Field(() => MoneyScalar, { description: "What the action holds on its counters now." })
  reserved!: bigint;

  @Field(() => Boolean, { description: "Settled above its estimate, within the bound the policy chain sets for overruns." })
  overrun!: boolean;

  @Field(() => Boolean, {
    description: "Settled after its reservation had expired and been released: the cost was decided against the caps of the settle's time, as a new charge.",
  })
  settledLate!: boolean;

  @Field(() => String, { nullable: true })
  idempotencyKey!: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true })
  metadata!: Record<string, unknown> | null;

  @Field(() => Date)
  decidedAt!: Date;

  @Field(() => Date, { nullable: true, description: "When an unsettled reservation or an unanswered hold expires." })
  expiresAt!: Date | null;

  @Field(() => Date, { nullable: true })
  resolvedAt!: Date | null;

  @Field(() => ID, { nullable: true, description: "Who approved or rejected it." })
  resolvedBy!: string | null;

  @Field(() => ID, { nullable: true, description: "The run the agent named for it (see `run` for the run itself)." })
  runId!: string | null;
}

@ObjectType()
export class AgentActionEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => AgentAction)
  node!: AgentAction;
}

@ObjectType()
export class AgentActionConnection {
  @Field(() => [AgentActionEdge])
  edges!: AgentActionEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  totalCount!: number;
}

@InputType()
export class AgentActionFilter {
  @Field(() => ID, { nullable: true })
  agentId?: string | null;

  @Field(() => String, { nullable: true })
  action?: string | null;

  @Field(() => [AgentActionStatusEnum], { nullable: true })
  status?: AgentActionStatus[] | null;

  @Field(() => DecisionOutcomeEnum, { nullable: true })
  decision?: DecisionOutcome | null;

  @Field(() => DecisionOutcomeEnum, { nullable: true, description: "E.g. DENIED: the actions a shadow policy would have denied." })
  shadowDecision?: DecisionOutcome | null;

  @Field(() => Date, { nullable: true, description: "Decided at or after." })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: "Decided before." })
  to?: Date | null;
}

const PLATFORM_FIGURE = "Null for a GLOBAL (platform-wide) cap unless you may read everyone's spend (spend:read).";

@ObjectType("CapCheck", { description: "An applicable cap as a decision checked it. For a cap on ACTIONS, limit and spend are numbers of actions." })
export class CapCheckView extends PolicyPartRef {
  @Field(() => ID)
  capId!: string;

  @Field(() => CapMeasureEnum)
  measure!: "COST" | "ACTIONS";

  @Field(() => String, { nullable: true, description: "The pattern of a cap that counts only matching actions." })
  pattern!: string | null;

  @Field(() => Boolean)
  soft!: boolean;

  @Field(() => CapCounterEnum)
  per!: CapCounter;

  @Field(() => CapWindowEnum)
  window!: CapWindow;

  @Field(() => MoneyScalar, { nullable: true, description: PLATFORM_FIGURE })
  limit!: bigint | null;

  @Field(() => Boolean)
  locked!: boolean;

  @Field(() => String)
  counter!: string;

  @Field(() => String)
  subject!: string;

  @Field(() => String, { description: "ISO start of the window instance, or TOTAL." })
  windowStart!: string;

  @Field(() => String, { nullable: true })
  windowEnd!: string | null;

  @Field(() => MoneyScalar, { nullable: true, description: PLATFORM_FIGURE })
  spentBefore!: bigint | null;

  @Field(() => MoneyScalar, { nullable: true, description: PLATFORM_FIGURE })
  spentAfter!: bigint | null;

  @Field(() => Boolean)
  fits!: boolean;

  @Field(() => MoneyScalar, { nullable: true, description: `Room left after this decision (0 when none). ${PLATFORM_FIGURE}` })
  remaining!: bigint | null;
}

@ObjectType("Decision", { description: "A decision with everything that shaped it." })
export class DecisionView {
  @Field(() => DecisionOutcomeEnum)
  outcome!: DecisionOutcome;

  @Field(() => [DecisionReason])
  reasons!: DecisionReason[];

  @Field(() => RuleRefView, { nullable: true })
  decidingRule!: RuleRefView | null;

  @Field(() => [CapCheckView])
  caps!: CapCheckView[];

  @Field(() => [PolicyRefView])
  policies!: PolicyRefView[];
}

@ObjectType({ description: "A dry run: the decision an action would get now. Nothing is charged or recorded." })
export class ActionSimulation {
  @Field(() => Date)
  at!: Date;

  @Field(() => DecisionView)
  decision!: DecisionView;

  @Field(() => DecisionView, { nullable: true, description: "With SHADOW policies enforced too; null when none applies." })
  wouldBe!: DecisionView | null;
}

export const DecisionStageEnum = { SUBMISSION: "SUBMISSION", APPROVAL: "APPROVAL" } as const;
export type DecisionStage = keyof typeof DecisionStageEnum;
registerEnumType(DecisionStageEnum, {
  name: "DecisionStage",
  description: "SUBMISSION: the decision taken when the agent submitted. APPROVAL: the re-decision taken when an approver approved a held action.",
});

@ObjectType({ description: "One recorded decision of an action re-taken on its recorded input, policy versions, instant and spend." })
export class StageReplay {
  @Field(() => DecisionStageEnum)
  stage!: DecisionStage;

  @Field(() => Date, { description: "When the recorded decision was taken." })
  decidedAt!: Date;

  @Field(() => DecisionOutcomeEnum, { description: "At APPROVAL, ALLOWED means the approval stood in for REQUIRE_APPROVAL and the estimate was reserved." })
  recordedOutcome!: DecisionOutcome;

  @Field(() => DecisionOutcomeEnum)
  replayedOutcome!: DecisionOutcome;

  @Field(() => Boolean, { description: "The replayed decision equals the recorded one: outcome, reasons, caps and policies." })
  matches!: boolean;

  @Field(() => [DecisionReason])
  reasons!: DecisionReason[];
}

@ObjectType({
  description:
    "A recorded decision re-taken on its recorded input, policy versions and spend: the decision that held (the approval's when an approver re-decided the action), with every recorded stage in `stages`.",
})
export class DecisionReplay {
  @Field(() => ID)
  actionId!: string;

  @Field(() => DecisionStageEnum, { description: "Which decision held and is replayed here: APPROVAL when an approver re-decided the action." })
  stage!: DecisionStage;

  @Field(() => Date)
  decidedAt!: Date;

  @Field(() => DecisionOutcomeEnum)
  recordedOutcome!: DecisionOutcome;

  @Field(() => DecisionOutcomeEnum)
  replayedOutcome!: DecisionOutcome;

  @Field(() => Boolean, {
    description: "Every recorded stage replays to a decision equal to the recorded one (outcome, reasons, caps and policies); see `stages` for each.",
  })
  matches!: boolean;

  @Field(() => [DecisionReason])
  reasons!: DecisionReason[];

  @Field(() => [StageReplay], { description: "Every recorded decision of the action, oldest first: the submission, then the approval if any." })
  stages!: StageReplay[];
}

@ObjectType()
export class WhatIfChange {
  @Field(() => ID)
  actionId!: string;

  @Field(() => ID)
  agentId!: string;

  @Field(() => String)
  action!: string;

  @Field(() => MoneyScalar)
  estimatedCost!: bigint;

  @Field(() => Date)
  decidedAt!: Date;

  @Field(() => DecisionOutcomeEnum)
  recordedOutcome!: DecisionOutcome;

  @Field(() => DecisionOutcomeEnum)
  proposedOutcome!: DecisionOutcome;

  @Field(() => [DecisionReason])
  reasons!: DecisionReason[];
}

@ObjectType({ description: "What a proposed policy would have changed over recorded actions." })
export class WhatIfReport {
  @Field(() => Int)
  considered!: number;

  @Field(() => Int)
  changed!: number;

  @Field(() => Int)
  newlyDenied!: number;

  @Field(() => Int)
  newlyAllowed!: number;

  @Field(() => Int)
  newlyHeld!: number;

  @Field(() => [WhatIfChange])
  changes!: WhatIfChange[];
}

@ObjectType()
export class CapRoom {
  @Field(() => ID)
  policyId!: string;

  @Field(() => String)
  policyName!: string;

  @Field(() => Int)
  policyVersion!: number;

  @Field(() => String)
  scope!: string;

  @Field(() => ID)
  capId!: string;

  @Field(() => MoneyScalar)
  limit!: bigint;

  @Field(() => Boolean)
  locked!: boolean;

  @Field(() => MoneyScalar)
  remaining!: bigint;
}

@ObjectType("SpendWindow")
export class SpendWindowView {
  @Field(() => String)
  window!: string;

  @Field(() => String)
  counter!: string;

  @Field(() => Date, { nullable: true })
  windowStart!: Date | null;

  @Field(() => Date, { nullable: true })
  windowEnd!: Date | null;

  @Field(() => MoneyScalar)
  reserved!: bigint;

  @Field(() => MoneyScalar)
  settled!: bigint;

  @Field(() => MoneyScalar)
  spent!: bigint;

  @Field(() => MoneyScalar, { description: "The net of the spend adjustments on this counter (signed; part of settled)." })
  adjusted!: bigint;

  @Field(() => [CapRoom])
  caps!: CapRoom[];

  @Field(() => MoneyScalar, { nullable: true, description: "The least room among the caps; null when uncapped." })
  remaining!: bigint | null;
}

@ObjectType("SpendReport", { description: "Spend of an agent, an owner or everyone in each current window." })
export class SpendReportView {
  @Field(() => String)
  per!: string;

  @Field(() => String)
  subject!: string;

  @Field(() => Date)
  at!: Date;

  @Field(() => [SpendWindowView])
  windows!: SpendWindowView[];
}
