import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import type { CapCounter, CapWindow } from "../policy/policy-types";
import { MoneyScalar } from "./money.scalar";
import { PageInfo } from "./page-info.type";
import { CapCounterEnum, CapWindowEnum } from "./policy.types";

export const SpendAdjustmentKindEnum = { CREDIT: "CREDIT", DEBIT: "DEBIT" } as const;
registerEnumType(SpendAdjustmentKindEnum, {
  name: "SpendAdjustmentKind",
  description: "CREDIT gives room back (lowers the counter's settled spend, never below zero); DEBIT charges spend no action recorded.",
});

@InputType({ description: "A correction of one spend counter: whose (per + subjectId), which window (the one containing `at`, or now)." })
export class SpendAdjustmentInput {
  @Field(() => CapCounterEnum)
  per!: CapCounter;

  @Field(() => ID, { nullable: true, description: "An agent id (AGENT), a user id (OWNER); none for GLOBAL." })
  subjectId?: string | null;

  @Field(() => CapWindowEnum)
  window!: CapWindow;

  @Field(() => Date, { nullable: true, description: "The window instance containing this instant; now when absent." })
  at?: Date | null;

  @Field(() => SpendAdjustmentKindEnum)
  kind!: keyof typeof SpendAdjustmentKindEnum;

  @Field(() => MoneyScalar, { description: "Above zero, in micro-units." })
  amount!: bigint;

  @Field(() => String, { description: "Why: 1 to 500 characters, kept and audited." })
  reason!: string;
}

@ObjectType({ description: "A credit or debit a person posted on a spend counter." })
export class SpendAdjustment {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "The counter's key, as decisions and spend reports name it." })
  counter!: string;

  @Field(() => String)
  per!: string;

  @Field(() => String)
  subject!: string;

  @Field(() => String)
  window!: string;

  @Field(() => Date, { nullable: true, description: "Null for TOTAL." })
  windowStart!: Date | null;

  @Field(() => SpendAdjustmentKindEnum)
  kind!: keyof typeof SpendAdjustmentKindEnum;

  @Field(() => MoneyScalar, { description: "Signed: negative for a credit." })
  amount!: bigint;

  @Field(() => String)
  reason!: string;

  @Field(() => ID, { description: "The user who posted it." })
  actorId!: string;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType()
export class SpendAdjustmentEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => SpendAdjustment)
  node!: SpendAdjustment;
}

@ObjectType()
export class SpendAdjustmentConnection {
  @Field(() => [SpendAdjustmentEdge])
  edges!: SpendAdjustmentEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  totalCount!: number;
}

@InputType()
export class SpendAdjustmentFilter {
  @Field(() => CapCounterEnum, { nullable: true })
  per?: CapCounter | null;

  @Field(() => ID, { nullable: true, description: "An agent id or a user id (GLOBAL counters: omit, with per GLOBAL)." })
  subjectId?: string | null;

  @Field(() => CapWindowEnum, { nullable: true })
  window?: CapWindow | null;

  @Field(() => Date, { nullable: true, description: "Posted at or after." })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: "Posted before." })
  to?: Date | null;
}
