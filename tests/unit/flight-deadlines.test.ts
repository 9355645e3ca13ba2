import type postgres from "postgres";
import { describe, expect, it } from "vitest";
import { postgresFlights } from "../../src/db/flights";
import { outcomeOf } from "../support/outage";

/**
 * The decision lanes' deadlines, against a stand-in for postgres.js whose statements answer
 * or never answer as the test says (tests/integration/postgres-pool-outage covers a real
 * database refusing and cutting connections).
 */
const DEADLINE_MS = 40;

function fakeLanes(hangs: (text: string, client: number) => boolean) {
  const clients: { statements: string[]; ended: boolean }[] = [];
  const connect = () => {
    const index = clients.length;
    const fake = { statements: [] as string[], ended: false };
    clients.push(fake);
    const unsafe = (text: string) => {
      let answer: Promise<unknown> | undefined;
      const run = () => {
        if (!answer) {
          fake.statements.push(text);
          answer = hangs(text, index) ? new Promise(() => undefined) : Promise.resolve([{ text }]);
        }
        return answer;
      };
      return { execute: () => void run(), then: (resolve: (value: unknown) => unknown, reject: (reason: unknown) => unknown) => run().then(resolve, reject) };
    };
    return {
      unsafe,
      end: () => {
        fake.ended = true;
        return Promise.resolve();
      },
    } as unknown as postgres.Sql;
  };
  return { clients, flights: postgresFlights(connect, 1, DEADLINE_MS) };
}

describe("decision lanes under a deadline", () => {
  it.each([
    ["a flight", (text: string) => text === "SELECT hang", [{ text: "SELECT hang", params: [] }]],
    ["the COMMIT after the body", (text: string) => text === "COMMIT", [{ text: "SELECT 1", params: [] }]],
  ])("fails the transaction as a timeout when %s never answers, and gives the lane a new client", async (_step, hangsOn, statements) => {
    const { clients, flights } = fakeLanes((text, client) => client === 0 && hangsOn(text));
    expect(await outcomeOf(flights.transaction((tx) => tx.flight(statements)))).toBe("database timeout");
    expect(clients[0]!.ended).toBe(true);
    // The lane's next transaction runs on its new client, and is answered.
    expect(await outcomeOf(flights.transaction((tx) => tx.flight([{ text: "SELECT 1", params: [] }], { commit: true })))).toBe('ok [[{"text":"SELECT 1"}]]');
    expect(clients).toHaveLength(2);
    expect(clients[1]!.statements).toEqual(["BEGIN", "SELECT 1", "COMMIT"]);
  });

  it("keeps the lane's client when every flight answers in time", async () => {
    const { clients, flights } = fakeLanes(() => false);
    for (let round = 0; round < 3; round += 1) {
      expect(await outcomeOf(flights.transaction((tx) => tx.flight([{ text: "SELECT 1", params: [] }], { commit: true })))).toBe('ok [[{"text":"SELECT 1"}]]');
    }
    expect(clients).toHaveLength(1);
    expect(clients[0]!.ended).toBe(false);
  });
});
