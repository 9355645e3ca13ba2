import { GraphQLJSON, GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { AuditActorType, AuditOutcome } from "./audit.types";
import { MoneyScalar } from "./money.scalar";
import { PageInfo } from "./page-info.type";

export const RunStatusEnum = {
  RUNNING: "RUNNING",
  WAITING_APPROVAL: "WAITING_APPROVAL",
  SUCCEEDED: "SUCCEEDED",
  FAILED: "FAILED",
  CANCELLED: "CANCELLED",
} as const;
export type RunStatus = keyof typeof RunStatusEnum;
registerEnumType(RunStatusEnum, {
  name: "RunStatus",
  description:
    "RUNNING: started, taking actions. WAITING_APPROVAL: running, with an action held for an approver (reads RUNNING again once it is approved, rejected or expired). SUCCEEDED, FAILED: reported by the agent (finishRun). CANCELLED: by cancelRun. The last three are final: the run takes no new actions.",
});

export const RunResultEnum = { SUCCEEDED: "SUCCEEDED", FAILED: "FAILED" } as const;
export type RunResult = keyof typeof RunResultEnum;
registerEnumType(RunResultEnum, { name: "RunResult", description: "How a run ended, as its agent reports it." });

@InputType({ description: "What a run starts with." })
export class StartRunInput {
  @Field(() => ID, { nullable: true, description: "The agent the run is for: one of yours (else NOT_FOUND). An agent starting a run for itself leaves it out." })
  agentId?: string | null;

  @Field(() => String, {
    nullable: true,
    description: "Your id for the run, unique among your runs (1 to 200 printable ASCII). Starting again with the same thread id and the same input returns the first run; with other input it is a CONFLICT.",
  })
  threadId?: string | null;

  @Field(() => String, { description: "1 to 200 characters." })
  name!: string;

  @Field(() => String, { nullable: true, description: "Up to 20,000 characters." })
  instructions?: string | null;

  @Field(() => GraphQLJSON, { nullable: true, description: "Any JSON up to 64 KiB." })
  initialData?: unknown;

  @Field(() => GraphQLJSONObject, { nullable: true, description: "Up to 8 KiB of JSON, kept with the run." })
  metadata?: Record<string, unknown> | null;
}

@InputType({ description: "Narrows runs; all given members must hold." })
export class RunFilterInput {
  @Field(() => [RunStatusEnum], { nullable: true, description: "Any of these statuses (WAITING_APPROVAL and RUNNING as the run reads now)." })
  status?: RunStatus[] | null;

  @Field(() => ID, { nullable: true })
  agentId?: string | null;

  @Field(() => ID, { nullable: true, description: "The runs' owner (others' runs need runs:read; otherwise the page is empty)." })
  ownerId?: string | null;

  @Field(() => Date, { nullable: true, description: "Started at or after this time." })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: "Started before this time." })
  to?: Date | null;
}

@ObjectType({ description: "What a run's actions hold and were charged, summed over them (micro-units)." })
export class RunSpend {
  @Field(() => MoneyScalar, { description: "Estimates reserved by its allowed actions not yet settled or released." })
  reserved!: bigint;

  @Field(() => MoneyScalar, { description: "Actual costs of its settled actions." })
  settled!: bigint;
}

@ObjectType({ description: "One entry of a run's log: an audit event of the run or of one of its actions." })
export class RunEvent {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "Position in the audit trail (a 64-bit integer, as a string)." })
  seq!: string;

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => AuditActorType)
  actorType!: AuditActorType;

  @Field(() => String, { nullable: true })
  actorId!: string | null;

  @Field(() => String, { description: "run.started, run.finished, agent.action.decided, agent.action.approved, ..." })
  action!: string;

  @Field(() => String, { nullable: true, description: "run or agent_action." })
  targetType!: string | null;

  @Field(() => String, { nullable: true })
  targetId!: string | null;

  @Field(() => AuditOutcome)
  outcome!: AuditOutcome;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: "The audit row's details (policy figures, spend before and after): only for those who may read the audit trail (audit:read); null for others.",
  })
  details!: Record<string, unknown> | null;
}

@ObjectType()
export class RunEventEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => RunEvent)
  node!: RunEvent;
}

@ObjectType({ description: "A run's log, newest first." })
export class RunEventConnection {
  @Field(() => [RunEventEdge])
  edges!: RunEventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  totalCount!: number;
}

@ObjectType({
  description:
    "A unit of an agent's work for its owner. Seen by its owner and its agent, and by holders of runs:read; to anyone else it does not exist (NOT_FOUND, or null where a field leads to it).",
})
export class Run {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  ownerId!: string;

  @Field(() => ID)
  agentId!: string;

  @Field(() => String, { nullable: true })
  threadId!: string | null;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  instructions!: string | null;

  @Field(() => GraphQLJSON, { nullable: true })
  initialData!: unknown;

  @Field(() => GraphQLJSONObject, { nullable: true })
  metadata!: Record<string, unknown> | null;

  @Field(() => RunStatusEnum)
  status!: RunStatus;

  @Field(() => GraphQLJSON, { nullable: true, description: "What the agent reported with finishRun." })
  output!: unknown;

  @Field(() => String, { description: "Who started it: USER (the owner) or AGENT (the agent itself)." })
  startedBy!: string;

  @Field(() => Date)
  startedAt!: Date;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;

  @Field(() => Date)
  updatedAt!: Date;

  @Field(() => ID, { nullable: true, description: "The run this one re-ran (see rerunOf for the run itself)." })
  rerunOfId!: string | null;
}

@ObjectType()
export class RunEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Run)
  node!: Run;
}

@ObjectType({ description: "Runs, newest first." })
export class RunConnection {
  @Field(() => [RunEdge])
  edges!: RunEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int, { description: "Runs matching the filter that you may see, over all pages." })
  totalCount!: number;
}
