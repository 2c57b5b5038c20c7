// The README's quick start is what a newcomer pastes first, so it is compiled and run as they
// would: a fresh project outside this workspace, the packages linked in (the README's install
// path), `tsc` with a consumer's strict settings against the built packages' types, then
// `node` on the output, answering requests. The API table beside it is checked against
// `interface Threadlink` in api.ts: every member, with every parameter.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { generateSealingKey } from '@threadlink/core';
import { postgresStore } from '@threadlink/storage-postgres';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXAMPLE_DIRECTORY } from '../src/config.js';

const run = promisify(execFile);
const REPOSITORY = resolve(EXAMPLE_DIRECTORY, '../..');
const README = readFileSync(join(REPOSITORY, 'README.md'), 'utf8');
const PACKAGES = ['core', 'gmail', 'outlook', 'storage-postgres'] as const;

/** The ```ts block of a `## ` section. */
function codeBlockOf(heading: string): string {
  const section = README.split(/^## /m).find((part) => part.startsWith(`${heading}\n`));
  const block = /```ts\n([\s\S]*?)```/.exec(section ?? '')?.[1];
  if (!block) throw new Error(`README has no ts block under "## ${heading}"`);
  return block;
}

// What `./crm.js` stands for in the snippet: the host's own code.
const HOST_CODE = `import type { Request } from 'express';
import type { MessageMeta, RecordLink, ResolvedRecord } from '@threadlink/core';

const none = async (_tenantId: string, _keys: string[]): Promise<ResolvedRecord[]> => [];
export const activity: Array<{ links: RecordLink[]; message: MessageMeta }> = [];
export const crm = {
  contacts: { byEmails: none },
  companies: { byDomains: none },
  projects: { byReferences: none },
  activity: { add: (links: RecordLink[], message: MessageMeta): void => void activity.push({ links, message }) },
};
export function currentUser(request: Request): { tenantId: string; id: string } {
  return { tenantId: request.header('x-tenant') ?? 'acme', id: request.header('x-user') ?? 'ana' };
}
export function notifyUser(_userId: string): void {}
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    // A consumer's usual setting: the libraries' own .d.ts are theirs to check.
    skipLibCheck: true,
    types: ['node'],
    outDir: 'dist',
    rootDir: 'src',
  },
  include: ['src'],
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as { port: number };
  await new Promise((resolveClose) => server.close(resolveClose));
  return port;
}

/** `pnpm add link:…/packages/<name>`: the package folders themselves, their dependencies resolved from there. */
async function linkPackages(project: string): Promise<void> {
  await mkdir(join(project, 'node_modules', '@threadlink'), { recursive: true });
  await mkdir(join(project, 'node_modules', '@types'), { recursive: true });
  for (const name of PACKAGES) await symlink(join(REPOSITORY, 'packages', name), join(project, 'node_modules', '@threadlink', name), 'dir');
  await symlink(join(EXAMPLE_DIRECTORY, 'node_modules', 'express'), join(project, 'node_modules', 'express'), 'dir');
  await symlink(join(EXAMPLE_DIRECTORY, 'node_modules', '@types', 'express'), join(project, 'node_modules', '@types', 'express'), 'dir');
  await symlink(join(REPOSITORY, 'node_modules', '@types', 'node'), join(project, 'node_modules', '@types', 'node'), 'dir');
  await writeFile(join(project, 'package.json'), `${JSON.stringify({ name: 'your-crm', private: true, type: 'module' }, null, 2)}\n`);
}

/**
 * `pnpm pack` in each package, then `npm install` of the tarballs together (their `workspace:*`
 * ranges become exact versions the sibling tarballs satisfy). Downloads the packages' own
 * dependencies from the registry, so it runs only with THREADLINK_TEST_TARBALLS=1.
 */
async function installTarballs(project: string): Promise<void> {
  const tarballs = join(project, 'tarballs');
  await mkdir(tarballs);
  const dependencies: Record<string, string> = { express: '^5.1.0' };
  for (const name of PACKAGES) {
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: join(REPOSITORY, 'packages', name) });
    const file = stdout.trim().split('\n').at(-1)!.trim();
    dependencies[`@threadlink/${name}`] = `file:tarballs/${file.slice(file.lastIndexOf('/') + 1)}`;
  }
  const manifest = {
    name: 'your-crm',
    private: true,
    type: 'module',
    dependencies,
    devDependencies: { '@types/express': '^5.0.0', '@types/node': '^20.19.0' },
  };
  await writeFile(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: project, timeout: 300_000 });
}

const INSTALLS = [
  { name: 'linked from the repository', prepare: linkPackages },
  ...(process.env.THREADLINK_TEST_TARBALLS === '1' ? [{ name: 'installed from pnpm pack tarballs', prepare: installTarballs }] : []),
];

describe.each(INSTALLS)('the README quick start, in a consumer project with the packages $name', ({ prepare }) => {
  let project: string;

  beforeAll(async () => {
    // The published shape: dist/ and its .d.ts (CI builds before testing; a fresh clone may not have).
    if (PACKAGES.some((name) => !existsSync(join(REPOSITORY, 'packages', name, 'dist', 'index.d.ts')))) {
      await run('pnpm', ['-r', ...PACKAGES.flatMap((name) => ['--filter', `@threadlink/${name}`]), 'run', 'build'], { cwd: REPOSITORY });
    }
    project = await mkdtemp(join(tmpdir(), 'threadlink-quick-start-'));
    await mkdir(join(project, 'src'));
    await prepare(project);
    await writeFile(join(project, 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
    await writeFile(join(project, 'src', 'server.ts'), codeBlockOf('Quick start (30 seconds)'));
    await writeFile(join(project, 'src', 'crm.ts'), HOST_CODE);
  }, 600_000);
  afterAll(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('compiles under NodeNext, strict and exactOptionalPropertyTypes against the built packages', async () => {
    const tsc = join(REPOSITORY, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project }).catch((error: { stdout: string; stderr: string }) => error);
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(existsSync(join(project, 'dist', 'server.js'))).toBe(true);
  });

  describe.skipIf(!process.env.DATABASE_URL)('started with the environment it reads', () => {
    let child: ChildProcess | undefined;
    let database: string;
    let output = '';

    afterAll(async () => {
      if (child && child.exitCode === null) {
        child.kill('SIGKILL');
        await new Promise((resolveExit) => child!.once('exit', resolveExit));
      }
      if (database) {
        const admin = postgresStore({ connectionString: process.env.DATABASE_URL! });
        await admin.sql.query(`DROP DATABASE IF EXISTS ${database}`);
        await admin.close();
      }
    });

    it('answers a connect request with the consent redirect, a timeline and a Graph handshake', async () => {
      // A database of its own: the snippet migrates the default schema, as a new app would.
      database = `threadlink_quick_start_${process.pid}_${Date.now()}`;
      const admin = postgresStore({ connectionString: process.env.DATABASE_URL! });
      await admin.sql.query(`CREATE DATABASE ${database}`);
      await admin.close();
      const databaseUrl = new URL(process.env.DATABASE_URL!);
      databaseUrl.pathname = `/${database}`;

      const port = await freePort();
      const origin = `http://127.0.0.1:${port}`;
      child = spawn(process.execPath, ['dist/server.js'], {
        cwd: project,
        env: {
          PATH: process.env.PATH ?? '',
          PORT: String(port),
          DATABASE_URL: databaseUrl.toString(),
          THREADLINK_SEALING_KEY: generateSealingKey(),
          THREADLINK_PUBLIC_URL: `${origin}/threadlink`,
          GOOGLE_CLIENT_ID: 'quick-start.apps.googleusercontent.com',
          GOOGLE_CLIENT_SECRET: 'google-secret',
          GOOGLE_PUBSUB_TOPIC: 'projects/acme/topics/mail',
          GOOGLE_PUSH_AUDIENCE: `${origin}/threadlink/webhooks/gmail`,
          GOOGLE_PUSH_SERVICE_ACCOUNT: 'push@acme.iam.gserviceaccount.com',
          MICROSOFT_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
          MICROSOFT_CLIENT_SECRET: 'microsoft-secret',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

      const timeline = await vi.waitFor(
        async () => {
          if (child!.exitCode !== null) throw new Error(`the quick start exited (${child!.exitCode}):\n${output}`);
          const response = await fetch(`${origin}/clients/c-1/emails`, { headers: { 'x-tenant': 'acme' } });
          expect(response.status).toBe(200);
          return (await response.json()) as { threads: unknown[] };
        },
        { timeout: 60_000, interval: 200 },
      );
      expect(timeline.threads).toEqual([]);

      const connect = await fetch(`${origin}/settings/mail/connect`, { method: 'POST', redirect: 'manual' });
      expect(connect.status).toBe(303);
      const consent = new URL(connect.headers.get('location')!);
      expect(consent.origin).toBe('https://accounts.google.com');
      expect(consent.searchParams.get('client_id')).toBe('quick-start.apps.googleusercontent.com');
      expect(consent.searchParams.get('redirect_uri')).toBe(`${origin}/threadlink/oauth/callback`);

      // tl.handler is mounted where THREADLINK_PUBLIC_URL says: Graph's validation handshake is echoed.
      const handshake = await fetch(`${origin}/threadlink/webhooks/outlook?validationToken=quick%20start`, { method: 'POST' });
      expect({ status: handshake.status, body: await handshake.text() }).toEqual({ status: 200, body: 'quick start' });
    });
  });
});

/** `tl.a.b(x, y?)` → ['tl.a.b', ['x', 'y?']], for every call written in the README's API table. */
function documentedCalls(): Map<string, string[][]> {
  const section = README.slice(README.indexOf('## API reference'), README.indexOf('\n## ', README.indexOf('## API reference') + 1));
  const calls = new Map<string, string[][]>();
  for (const match of section.matchAll(/`(tl\.[\w.]+)(\([^`]*\))?`/g)) {
    const [, path, argumentText] = match as unknown as [string, string, string | undefined];
    const list = argumentText ? splitTopLevel(argumentText.slice(1, -1)) : [];
    calls.set(path, [...(calls.get(path) ?? []), list]);
  }
  return calls;
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const character of text) {
    if ('({['.includes(character)) depth += 1;
    if (')}]'.includes(character)) depth -= 1;
    if (character === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += character;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

/** Every member of `interface Threadlink`: methods with their parameters, other properties with none. */
function apiMembers(): Array<{ path: string; parameters: Array<{ name: string; optional: boolean }> | null }> {
  const file = join(REPOSITORY, 'packages', 'core', 'src', 'api.ts');
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const threadlink = source.statements.find(
    (statement): statement is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(statement) && statement.name.text === 'Threadlink',
  )!;
  const members: Array<{ path: string; parameters: Array<{ name: string; optional: boolean }> | null }> = [];
  const parametersOf = (signature: ts.SignatureDeclarationBase) =>
    signature.parameters.map((parameter) => ({
      name: parameter.name.getText(source),
      optional: parameter.questionToken !== undefined || parameter.initializer !== undefined,
    }));
  const visit = (path: string, member: ts.TypeElement): void => {
    if (ts.isMethodSignature(member)) members.push({ path, parameters: parametersOf(member) });
    else if (ts.isPropertySignature(member) && member.type && ts.isTypeLiteralNode(member.type)) {
      for (const inner of member.type.members) {
        if (ts.isCallSignatureDeclaration(inner)) members.push({ path, parameters: parametersOf(inner) });
        else visit(`${path}.${inner.name!.getText(source)}`, inner);
      }
    } else members.push({ path, parameters: null });
  };
  for (const member of threadlink.members) visit(`tl.${member.name!.getText(source)}`, member);
  return members;
}

describe('the README API table', () => {
  it('shows every member of interface Threadlink, each call with all its parameters', () => {
    const documented = documentedCalls();
    const problems: string[] = [];
    for (const { path, parameters } of apiMembers()) {
      const calls = documented.get(path);
      if (!calls) {
        problems.push(`${path} is missing`);
        continue;
      }
      if (parameters === null) continue;
      // tl.handler is a callable property: its (request) is the handler's own signature.
      const expected = parameters.map((parameter) => `${parameter.name}${parameter.optional ? '?' : ''}`);
      const matches = calls.some(
        (shown) =>
          shown.length === expected.length &&
          shown.every((argument, index) => argument.startsWith('{') || argument.startsWith("'") || argument === expected[index]),
      );
      if (!matches) problems.push(`${path}(${expected.join(', ')}) is shown as ${calls.map((shown) => `(${shown.join(', ')})`).join(' or ')}`);
    }
    expect(problems).toEqual([]);
  });
});
