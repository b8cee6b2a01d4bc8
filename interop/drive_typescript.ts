// Drives the TypeScript client made of openapi-typescript's types (generated from
// spec/openapi.yaml) and openapi-fetch against a running mock, with no hand-patching: filter,
// page through every lead, typed errors. Compiled with tsc and run by interop/clients.py.
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const base = process.argv[2];
const client = createClient<paths>({ baseUrl: base });
const key = (k: string, more: Record<string, string> = {}) => ({ "x-api-key": k, ...more });

async function main(): Promise<void> {
  const won = await client.GET("/leads", {
    params: { query: { stage: "won", limit: 5 } },
    headers: key("demo-key-unlimited"),
  });
  if (!won.data || !won.data.data.every((lead) => lead.stage === "won")) throw new Error("filter");
  console.log(`   filter stage=won: ${won.data.data.length} leads of ${won.data.pagination.total}, every one won`);

  const ids = new Set<string>();
  let page = 1;
  let total = 0;
  for (;;) {
    const { data } = await client.GET("/leads", {
      params: { query: { archived: true, limit: 100, page } },
      headers: key("demo-key-unlimited"),
    });
    if (!data) throw new Error(`page ${page}`);
    data.data.forEach((lead) => ids.add(lead.id ?? ""));
    total = data.pagination.total;
    if (!data.pagination.has_more) break;
    page += 1;
  }
  if (ids.size !== total) throw new Error(`${ids.size} leads, total ${total}`);
  console.log(`   paged through every lead: ${ids.size} in ${page} pages, none twice`);

  const cases: Array<[number, Record<string, string>]> = [
    [401, {}],
    [403, key("demo-key-no-scope")],
    [429, key("demo-key-exhausted")],
    [500, key("demo-key", { Prefer: "code=500" })],
  ];
  const shown: string[] = [];
  for (const [status, headers] of cases) {
    const { error, response } = await client.GET("/leads", { headers });
    // error is typed as the document's Error schema for these statuses.
    if (response.status !== status || !error || error.status !== "error") throw new Error(`status ${status}`);
    shown.push(`${status} ${error.error_code ?? "(no error_code)"}`);
  }
  console.log(`   typed errors (components["schemas"]["Error"]): ${shown.join(", ")}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
