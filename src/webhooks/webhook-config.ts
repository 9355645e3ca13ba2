import crypto from "node:crypto";
import path from "node:path";
import type { Config } from "../config/config";
import { readOrCreateKeyFile } from "../crypto/key-files";
import { createSecretBox, parseEncryptionKey, type SecretBox } from "../crypto/secret-box";
import type { TargetPolicy } from "./url-guard";

/**
 * The box sealing webhook signing secrets: WEBHOOK_ENCRYPTION_KEY, or a key generated once
 * into DATA_DIR/keys/webhook.key. Processes of one deployment must share it (set the variable,
 * or share DATA_DIR), or a process cannot sign for endpoints another registered.
 */
export function openWebhookBox(config: Config): SecretBox {
  const text =
    config.WEBHOOK_ENCRYPTION_KEY ??
    readOrCreateKeyFile(path.join(config.DATA_DIR, "keys", "webhook.key"), () => crypto.randomBytes(32).toString("base64url"));
  return createSecretBox(parseEncryptionKey(text.trim()), "wh1");
}

export function webhookTargetPolicy(config: Config): TargetPolicy {
  return { allowHttp: config.WEBHOOK_ALLOW_HTTP, allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_TARGETS };
}
