// The `.env` the app itself is started with, read the way dotenv and Node's --env-file do: so a
// newcomer runs `threadlink-doctor` beside the app's .env instead of exporting every variable.
// A small parser rather than process.loadEnvFile: that needs Node 20.12, the packages run on 20.0.
import { readFileSync } from 'node:fs';

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/;

/** `NAME=value` lines; `#` comments, blank lines, `export ` prefixes and quoted values as in dotenv. */
export function parseEnvFile(text: string): Record<string, string> {
  const variables: Record<string, string> = {};
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const match = LINE.exec(lines[index]!);
    if (!match) continue;
    const name = match[1]!;
    let value = match[2]!;
    const quote = value[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      // A quoted value may span lines until its closing quote.
      let closing = value.indexOf(quote, 1);
      while (closing < 0 && index + 1 < lines.length) {
        index += 1;
        value += `\n${lines[index]!}`;
        closing = value.indexOf(quote, 1);
      }
      value = value.slice(1, closing < 0 ? undefined : closing);
      if (quote === '"') value = value.replace(/\\n/g, '\n');
    } else {
      // An unquoted value ends at a comment that follows whitespace (a # inside a URL stays).
      value = value.replace(/\s+#.*$/, '');
    }
    variables[name] = value;
  }
  return variables;
}

/**
 * The environment the checks read: the file's variables under the process's own, so a variable
 * set in the shell wins over the file (as with dotenv and `node --env-file`).
 */
export function environmentWithFile(path: string, environment: Record<string, string | undefined>): Record<string, string | undefined> {
  return { ...parseEnvFile(readFileSync(path, 'utf8')), ...environment };
}
