CREATE TABLE "disclosure_decisions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"request_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"broker" text NOT NULL,
	"broker_sub" text NOT NULL,
	"broker_role" text NOT NULL,
	"outcome" text NOT NULL,
	"categories" jsonb,
	"valid_until" timestamp (3) with time zone,
	"reason" text,
	"jws" text NOT NULL,
	"jti" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "disclosure_grants" (
	"id" uuid PRIMARY KEY NOT NULL,
	"request_id" uuid NOT NULL,
	"requester" text NOT NULL,
	"holder" text NOT NULL,
	"categories" jsonb NOT NULL,
	"break_glass" boolean NOT NULL,
	"issued_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	"jwt" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "disclosure_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"requester" text NOT NULL,
	"requester_sub" text NOT NULL,
	"requester_role" text NOT NULL,
	"holder" text NOT NULL,
	"holder_registration_id" uuid NOT NULL,
	"subject" text NOT NULL,
	"purpose" text NOT NULL,
	"legal_basis" text NOT NULL,
	"categories" jsonb NOT NULL,
	"case_ref" text NOT NULL,
	"justification_hash" text NOT NULL,
	"jws" text NOT NULL,
	"jti" text NOT NULL,
	"urgency" text NOT NULL,
	"rule" text NOT NULL,
	"approvals_needed" integer NOT NULL,
	"status" text NOT NULL,
	"review_status" text,
	"review_due_at" timestamp (3) with time zone,
	"overdue_logged_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone NOT NULL,
	"closed_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "handovers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"grant_id" uuid NOT NULL,
	"request_id" uuid NOT NULL,
	"requester" text NOT NULL,
	"holder" text NOT NULL,
	"ciphertext" text,
	"bytes" integer NOT NULL,
	"posted_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"delivered_at" timestamp (3) with time zone,
	"deleted_at" timestamp (3) with time zone,
	"delete_reason" text
);
--> statement-breakpoint
CREATE UNIQUE INDEX "disclosure_decisions_broker_uq" ON "disclosure_decisions" USING btree ("request_id","kind","broker","broker_sub");--> statement-breakpoint
CREATE UNIQUE INDEX "disclosure_decisions_jti_uq" ON "disclosure_decisions" USING btree ("broker","jti");--> statement-breakpoint
CREATE UNIQUE INDEX "disclosure_grants_request_uq" ON "disclosure_grants" USING btree ("request_id");--> statement-breakpoint
CREATE UNIQUE INDEX "disclosure_requests_jti_uq" ON "disclosure_requests" USING btree ("requester","jti");--> statement-breakpoint
CREATE INDEX "disclosure_requests_status_idx" ON "disclosure_requests" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "disclosure_requests_review_idx" ON "disclosure_requests" USING btree ("review_status","review_due_at");--> statement-breakpoint
CREATE UNIQUE INDEX "handovers_grant_uq" ON "handovers" USING btree ("grant_id");--> statement-breakpoint
CREATE INDEX "handovers_expires_idx" ON "handovers" USING btree ("expires_at");