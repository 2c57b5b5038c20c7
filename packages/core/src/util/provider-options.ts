// Adapters parse their options at the boundary, so a misconfigured host fails at start-up with
// CONFIG_INVALID instead of at the first webhook, and every adapter words the failure alike.
import type { z } from 'zod';
import { ThreadlinkError } from '../errors.js';

/**
 * Parses `input` with `schema` (a strictObject: an unknown key is a typo or a removed option, and
 * silently ignoring it would hide the mistake). `factory` names the function the host called.
 */
export function parseProviderOptions<Schema extends z.ZodType>(schema: Schema, input: unknown, factory: string): z.output<Schema> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => {
        const where = issue.path.map(String).join('.');
        if (issue.code === 'unrecognized_keys') {
          // zod names the unknown keys themselves; the path is the object holding them (empty at the top).
          const unknown = `unknown option${issue.keys.length === 1 ? '' : 's'} ${issue.keys.join(', ')}`;
          return where ? `${where}: ${unknown}` : unknown;
        }
        return `${where || '(options)'}: ${issue.message}`;
      })
      .join('; ');
    throw new ThreadlinkError('CONFIG_INVALID', `${factory} options are invalid: ${problems}`);
  }
  return parsed.data;
}
