import path from "node:path";
import { readOutbox, type OutboxMessage } from "../../src/email/outbox-mailer";
import type { TestServer } from "./test-server";

/** The messages the server wrote to its outbox for one address, oldest first. */
export async function mailTo(server: TestServer, address: string, tag?: string): Promise<OutboxMessage[]> {
  await server.app.services.passwords.idle();
  const all = await readOutbox(path.join(server.dataDir, "outbox"));
  return all.filter((message) => message.To.toLowerCase() === address.toLowerCase() && (!tag || message.Tag === tag));
}

/** The one-time token in the newest link of that kind sent to the address. */
export async function tokenFromMail(server: TestServer, address: string, tag: string): Promise<string> {
  const messages = await mailTo(server, address, tag);
  const latest = messages.at(-1);
  const match = latest && /[?&]token=([^\s"&<]+)/.exec(latest.TextBody);
  if (!match?.[1]) throw new Error(`no ${tag} link mailed to ${address}`);
  return decodeURIComponent(match[1]);
}
