import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";

export enum AuditActorType {
  USER = "user",
  AGENT = "agent",
  SYSTEM = "system",
  ANONYMOUS = "anonymous",
}
registerEnumType(AuditActorType, { name: "AuditActorType", description: "Who acted." });

export enum AuditOutcome {
  SUCCESS = "success",
  FAILURE = "failure",
  DENIED = "denied",
}
registerEnumType(AuditOutcome, { name: "AuditOutcome", description: "How the audited attempt ended." });

export enum AuditChainBreak {
  HASH_MISMATCH = "hash_mismatch",
  PREV_MISMATCH = "prev_mismatch",
  UNCHAINED = "unchained",
}
registerEnumType(AuditChainBreak, {
  name: "AuditChainBreak",
  description: "Why a link of the audit hash chain is broken.",
  valuesConfig: {
    HASH_MISMATCH: { description: "The row's content does not match its hash: the row was changed." },
    PREV_MISMATCH: { description: "The row does not follow the one before it: a row was removed, added or moved before it." },
    UNCHAINED: { description: "The row carries no hash (written before the chain existed)." },
  },
});

@InputType({ description: "Narrows audit events; all given members must hold." })
export class AuditFilter {
  @Field(() => String, { nullable: true })
  actorId?: string | null;

  @Field(() => AuditActorType, { nullable: true })
  actorType?: AuditActorType | null;

  @Field(() => String, { nullable: true, description: "An action name, or a prefix followed by * (`auth.*`)." })
  action?: string | null;

  @Field(() => String, { nullable: true })
  targetType?: string | null;

  @Field(() => String, { nullable: true })
  targetId?: string | null;

  @Field(() => AuditOutcome, { nullable: true })
  outcome?: AuditOutcome | null;

  @Field(() => Date, { nullable: true, description: "Events at or after this time." })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: "Events before this time." })
  to?: Date | null;
}

@ObjectType({ description: "One entry of the append-only, hash-chained audit trail." })
export class AuditEvent {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "Position in the trail (a 64-bit integer, as a string)." })
  seq!: string;

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => AuditActorType)
  actorType!: AuditActorType;

  @Field(() => String, { nullable: true })
  actorId!: string | null;

  @Field(() => String)
  action!: string;

  @Field(() => String, { nullable: true })
  targetType!: string | null;

  @Field(() => String, { nullable: true })
  targetId!: string | null;

  @Field(() => AuditOutcome)
  outcome!: AuditOutcome;

  @Field(() => String, { nullable: true })
  ip!: string | null;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field(() => String, { nullable: true })
  requestId!: string | null;

  @Field(() => GraphQLJSONObject)
  details!: Record<string, unknown>;

  @Field(() => String, { nullable: true, description: "SHA-256 (hex) of prevHash and this event's content; a chain link, not a secret." })
  hash!: string | null;

  @Field(() => String, { nullable: true, description: "The hash of the event before this one; null for the first." })
  prevHash!: string | null;
}

@ObjectType()
export class AuditEventEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => AuditEvent)
  node!: AuditEvent;
}

@ObjectType()
export class AuditPageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType({ description: "Audit events, newest first." })
export class AuditEventConnection {
  @Field(() => [AuditEventEdge])
  edges!: AuditEventEdge[];

  @Field(() => AuditPageInfo)
  pageInfo!: AuditPageInfo;

  /** Counts every match (`totalCount`, resolved only when asked for: resolvers/audit.resolver.ts). */
  countAll!: () => Promise<number>;
}

@ObjectType()
export class AuditChainLink {
  @Field(() => String)
  seq!: string;

  @Field(() => ID)
  id!: string;

  @Field(() => AuditChainBreak)
  reason!: AuditChainBreak;
}

@ObjectType({ description: "The result of walking the audit hash chain over a range." })
export class AuditChainVerification {
  @Field(() => Boolean)
  ok!: boolean;

  @Field(() => Int, { description: "Events examined, the broken one included." })
  checked!: number;

  @Field(() => AuditChainLink, { nullable: true, description: "The first broken link; null when ok." })
  firstBroken!: AuditChainLink | null;

  @Field(() => String, { nullable: true, description: "Seq of the last event that checked out." })
  lastGoodSeq!: string | null;

  @Field(() => String, { nullable: true, description: "Its hash: keep it outside to detect a cut-off tail later." })
  lastGoodHash!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The seq of the checkpoint or anchor the walk continued from; null when it started at the first event (or at fromSeq without an anchor).",
  })
  continuedAfterSeq!: string | null;
}
