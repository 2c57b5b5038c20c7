// 6. Matching. (a) messages/s through the matcher against 100,000 CRM records — core's own
// matcher benchmark (bench/matcher.ts), run as is — compared with the rate the SQL
// store commits the same pages (storage-postgres' upserts benchmark): matching must not be what
// limits a sync. (b) Rematch: a CRM gains a contact / a client, and the history already stored is
// linked — over a large stored set, compared with the one index look-up any rematch needs.
import { performance } from 'node:perf_hooks';
import { pgliteStore, postgresStore, type SqlMetadataStore } from '@threadlink/storage-postgres';
import { benchSchema, databaseUrl, storeOnlyThreadlink } from '../lib/database.js';
import { benchConnection, benchMessage } from '../lib/messages.js';
import { figure, type Figure, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import { round, summarize } from '../lib/stats.js';
import { matcherBench, upsertsBench } from '../lib/subprocess.js';

const TEMPLATE = 1_000;
const TENANT = 't1';

/**
 * Grows a store to `target` messages: TEMPLATE messages written through applySync (the store's
 * real write path), then cloned server-side in chunks, each clone with its own ids and its own
 * sender address (person+<clone>@client<i>.example, same domain). Column lists are read from the
 * catalog, so the clones are whatever applySync wrote. Stops at the deadline.
 */
async function seed(
  store: SqlMetadataStore,
  target: number,
  deadline: number,
  log: (message: string) => void,
): Promise<{ stored: number; seconds: number; clones: number }> {
  const started = performance.now();
  const connection = benchConnection('con_rematch', TENANT);
  await store.saveConnection(connection);
  const template = Array.from({ length: TEMPLATE }, (_, index) => benchMessage(connection, index));
  for (let offset = 0; offset < TEMPLATE; offset += 500) {
    await store.applySync(connection.id, { upserts: template.slice(offset, offset + 500), deletes: [], links: [] });
  }
  log(`template of ${TEMPLATE} messages written in ${Math.round(performance.now() - started)} ms`);
  const columns = async (table: string): Promise<string[]> =>
    (
      await store.sql.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
        [store.schema, table],
      )
    ).rows.map((row) => row.column_name);
  const suffixed = new Set(['id', 'message_id', 'provider_message_id', 'thread_id', 'provider_thread_id', 'internet_message_id']);
  const cloneSql = async (table: string): Promise<string> => {
    const names = await columns(table);
    const select = names.map((name) => {
      if (suffixed.has(name)) return `${name} || ':' || c`;
      if (table === 'participants' && name === 'address') return `regexp_replace(address, '@', '+' || c || '@')`;
      return name;
    });
    const source =
      table === 'messages'
        ? `connection_id = '${connection.id}' AND position(':' in id) = 0`
        : `connection_id = '${connection.id}' AND position(':' in message_id) = 0`;
    return `INSERT INTO "${store.schema}".${table} (${names.join(', ')}) SELECT ${select.join(', ')} FROM "${store.schema}".${table} CROSS JOIN generate_series($1::int, $2::int) AS c WHERE ${source}`;
  };
  const statements = [await cloneSql('messages'), await cloneSql('participants'), await cloneSql('reference_tokens')];
  const chunk = Math.max(1, Math.floor(100_000 / TEMPLATE));
  let clones = 0;
  while ((clones + 1) * TEMPLATE < target && performance.now() < deadline) {
    const from = clones + 1;
    const to = Math.min(from + chunk - 1, Math.ceil(target / TEMPLATE) - 1);
    await store.sql.transaction(async (tx) => {
      for (const statement of statements) await tx.query(statement, [from, to]);
    });
    clones = to;
    log(`seeded ${((clones + 1) * TEMPLATE).toLocaleString('en-US')} messages`);
  }
  await store.sql.exec(`ANALYZE "${store.schema}".messages; ANALYZE "${store.schema}".participants; ANALYZE "${store.schema}".reference_tokens;`);
  return { stored: (clones + 1) * TEMPLATE, seconds: (performance.now() - started) / 1000, clones };
}

async function rematchRun(context: ScenarioContext, backend: 'postgres' | 'pglite', target: number, seedDeadline: number) {
  const schema = benchSchema();
  const url = databaseUrl();
  const store = backend === 'postgres' && url ? postgresStore({ connectionString: url, schema, poolConfig: { max: 4 } }) : pgliteStore({ schema });
  try {
    await store.init();
    const seeded = await seed(store, target, seedDeadline, context.log);
    const tl = storeOnlyThreadlink(store);
    const contact: number[] = [];
    const contactLookups: number[] = [];
    const company: number[] = [];
    const companyLookups: number[] = [];
    const linked = { contact: [] as number[], company: [] as number[] };
    const repetitions = context.quick ? 3 : 10;
    for (let run = 0; run < repetitions; run += 1) {
      // A contact the CRM just created: the address one clone's sender used.
      const clone = 1 + ((run * 7919) % Math.max(1, seeded.clones));
      const sender = (run * 31) % TEMPLATE;
      const address = seeded.clones > 0 ? `person+${clone}@client${sender}.example` : `person@client${sender}.example`;
      let started = performance.now();
      await store.findMessageIds(TENANT, { addresses: [address] }, { limit: 500 });
      contactLookups.push(performance.now() - started);
      started = performance.now();
      const result = await tl.matching.rematch({ type: 'contact', id: `new-contact-${run}`, emails: [address] }, { tenantId: TENANT, as: 'admin' });
      contact.push(performance.now() - started);
      linked.contact.push(result.linked);
    }
    for (let run = 0; run < Math.ceil(repetitions / 2); run += 1) {
      // A client with a domain whose mail is all over the stored history.
      const domain = `client${(run * 97 + 13) % TEMPLATE}.example`;
      let started = performance.now();
      await store.findMessageIds(TENANT, { domains: [domain] }, { limit: 500 });
      companyLookups.push(performance.now() - started);
      started = performance.now();
      const result = await tl.matching.rematch({ type: 'client', id: `new-client-${run}`, domains: [domain] }, { tenantId: TENANT, as: 'admin' });
      company.push(performance.now() - started);
      linked.company.push(result.linked);
    }
    // What a scan costs on this table (a filter no index serves), for scale.
    const scanStarted = performance.now();
    await store.sql.query(`SELECT count(*) FROM "${schema}".participants WHERE display_name = 'no such person'`);
    const scanMs = performance.now() - scanStarted;
    await tl.stop();
    return { seeded, contact, contactLookups, company, companyLookups, linked, scanMs };
  } finally {
    if (backend === 'postgres') await store.sql.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await store.close();
  }
}

export const matching: Scenario = {
  name: 'matching',
  title: 'Matching msgs/s vs 100,000 CRM records; rematch of a new contact/client over a large stored set',
  budget: { full: 100, quick: 18 },
  async run(context) {
    const backend = databaseUrl() ? 'postgres' : 'pglite';
    const notes: string[] = [];
    const figures: Figure[] = [];

    // (a) matcher vs store commit rate, same page size (200, the matcher bench's sync page).
    const matcherRuns = context.quick ? 1 : 3;
    const matcherMessages = context.quick ? 4_000 : 20_000;
    const matcherResults = [];
    for (let run = 0; run < matcherRuns; run += 1) matcherResults.push(await matcherBench(matcherMessages, 100_000));
    const upserts = await upsertsBench(backend, context.quick ? 2_000 : 6_000, 200);
    context.log(
      `matcher ${matcherResults.map((result) => result.matchMany.messagesPerSecond).join('/')} msg/s; ${backend} applySync ${upserts.insertMessagesPerSecond} msg/s`,
    );
    figures.push(
      figure({
        name: 'matchMany (pages of 200) vs 100,000 records',
        unit: 'msg/s',
        better: 'higher',
        samples: matcherResults.map((result) => result.matchMany.messagesPerSecond),
        limit: { name: `${backend} applySync of the same pages`, samples: [upserts.insertMessagesPerSecond] },
        targets: [{ of: 'ratio.median', op: '>=', value: 1, text: 'not the bottleneck (≥ 1× store)' }],
      }),
      figure({
        name: 'match (one message at a time)',
        unit: 'msg/s',
        better: 'higher',
        samples: matcherResults.map((result) => result.match.messagesPerSecond),
        limit: { name: `${backend} applySync of the same pages`, samples: [upserts.insertMessagesPerSecond] },
      }),
    );

    // (b) rematch over a large stored set.
    const target = context.quick ? 20_000 : backend === 'postgres' ? 1_000_000 : 200_000;
    const seedDeadline = performance.now() + (context.quick ? 9_000 : 62_000);
    const rematch = await rematchRun(context, backend, target, seedDeadline);
    if (rematch.seeded.stored < target) {
      notes.push(
        `Scaled down: ${rematch.seeded.stored.toLocaleString('en-US')} stored messages instead of ${target.toLocaleString('en-US')} — seeding did not fit the time budget (${round(rematch.seeded.seconds, 1)} s spent).`,
      );
    }
    if (!context.quick && backend === 'pglite')
      notes.push('DATABASE_URL is unset: the rematch ran on PGlite with a 200,000-message target instead of 1,000,000 on PostgreSQL.');
    figures.push(
      figure({
        name: `rematch new contact over ${rematch.seeded.stored.toLocaleString('en-US')} msgs`,
        unit: 'ms',
        better: 'lower',
        samples: rematch.contact,
        limit: { name: 'the address index look-up alone', samples: rematch.contactLookups },
      }),
      figure({
        name: `rematch new client (domain) over ${rematch.seeded.stored.toLocaleString('en-US')} msgs`,
        unit: 'ms',
        better: 'lower',
        samples: rematch.company,
        limit: { name: 'the domain index look-up alone (first 500)', samples: rematch.companyLookups },
      }),
    );
    notes.push(
      `Rematch store: ${backend}; ${TEMPLATE.toLocaleString('en-US')} messages written with applySync, then cloned in SQL with new ids and per-clone sender addresses (same domains), then ANALYZE.`,
      `For scale: one scan of the participants table (no index) took ${round(rematch.scanMs, 1)} ms; rematch uses the address/domain indexes instead.`,
    );
    return {
      figures,
      settings: { backend, records: 100_000, matcherMessages, matcherRuns, rematchTarget: target },
      notes,
      details: {
        matcher: matcherResults,
        upserts,
        seeded: { ...rematch.seeded, seconds: round(rematch.seeded.seconds, 1) },
        linkedPerRematch: { contact: summarize(rematch.linked.contact), client: summarize(rematch.linked.company) },
        scanMs: round(rematch.scanMs, 1),
      },
    };
  },
};
