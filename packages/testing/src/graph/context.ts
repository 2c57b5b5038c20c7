// What a Graph handler knows about the call it is answering.
import type { Mailbox } from './mail-store.js';
import type { Preferences } from './odata.js';

export interface GraphCall {
  method: string;
  /** Full request URL (query included), on the emulator's own origin. */
  url: URL;
  /** Path segments after /v1.0 with `users/{self}` folded into `me`. */
  segments: string[];
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json<T = unknown>(): T | undefined;
  mailbox: Mailbox;
  clientId: string;
  scopes: string[];
  preferences: Preferences;
  params: Record<string, string>;
  /** The origin the client used (http or https listener), for links in responses. */
  origin: string;
}
