CREATE TYPE "public"."policy_change" AS ENUM('CREATED', 'UPDATED', 'ENABLED', 'DISABLED', 'MODE_CHANGED', 'DELETED');--> statement-breakpoint
CREATE TYPE "public"."policy_mode" AS ENUM('ENFORCE', 'SHADOW');--> statement-breakpoint
CREATE TYPE "public"."policy_scope" AS ENUM('GLOBAL', 'ROLE', 'USER', 'AGENT');--> statement-breakpoint
CREATE TABLE "policies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"scope" "policy_scope" NOT NULL,
	"scope_id" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"mode" "policy_mode" DEFAULT 'ENFORCE' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"built_in" boolean DEFAULT false NOT NULL,
	"rules" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"caps" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" uuid,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "policies_scope_id_check" CHECK (("policies"."scope" = 'GLOBAL') = ("policies"."scope_id" IS NULL)),
	CONSTRAINT "policies_version_check" CHECK ("policies"."version" >= 1)
);
--> statement-breakpoint
CREATE TABLE "policy_versions" (
	"policy_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"change" "policy_change" NOT NULL,
	"snapshot" jsonb NOT NULL,
	"changed_by" uuid,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "policy_versions_policy_id_version_pk" PRIMARY KEY("policy_id","version")
);
--> statement-breakpoint
ALTER TABLE "policy_versions" ADD CONSTRAINT "policy_versions_policy_id_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."policies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "policies_scope_idx" ON "policies" USING btree ("scope","scope_id") WHERE "policies"."deleted_at" IS NULL;