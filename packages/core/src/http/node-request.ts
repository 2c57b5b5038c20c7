// The Request the Node glue hands to the web handler. node:http has already parsed the method, URL
// and headers, and the glue has read the whole body into one Buffer; building a web Request from
// them (a Headers copy, a body stream, an AbortSignal) only for the handler to read the body back
// out of that stream is most of what the glue costs per push. This Request answers what the
// handler and the providers read of a push (method, url, headers, bodyUsed and the body as text,
// JSON or bytes) from what the glue already has, and builds the real Request the first time anything
// else is asked for (its body stream, clone(), signal, an own property...). From then on every
// member is the real one's, so code that uses more of the Request API sees a Request that works
// like any other, at the old cost.
import type { IncomingHttpHeaders } from 'node:http';

export interface NodeRequestParts {
  method: string;
  /** Absolute and already normalised (a URL's href), as `Request.url` would give it. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The whole body, read within the glue's limit; undefined for none. */
  body: Buffer<ArrayBuffer> | undefined;
}

// UTF-8 with a leading byte order mark removed, as the body mixin's text() decodes.
const utf8 = new TextDecoder();

function toHeaders(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(incoming)) {
    if (Array.isArray(value)) for (const item of value) headers.append(key, item);
    else if (value !== undefined) headers.set(key, value);
  }
  return headers;
}

/** A Request made of what node:http and the glue already have; see the top of this file. */
export function nodeRequest(parts: NodeRequestParts): Request {
  let real: Request | undefined;
  let headers: Headers | undefined;
  let used = false;

  const materialise = (): Request => {
    if (!real) {
      real = new Request(parts.url, { method: parts.method, headers: headers ?? toHeaders(parts.headers), ...(parts.body ? { body: parts.body } : {}) });
      // A body read here is read there too: the real Request must not hand it out a second time.
      if (used) real.arrayBuffer().catch(() => undefined);
    }
    return real;
  };

  // The body once, as a Request gives it: a second read of a body is refused, no body reads as empty.
  const read = async (): Promise<Buffer<ArrayBuffer>> => {
    if (!parts.body) return Buffer.alloc(0);
    if (used) throw new TypeError('Body is unusable: Body has already been read');
    used = true;
    return parts.body;
  };
  const body = {
    text: async () => (real ? real.text() : utf8.decode(await read())),
    json: async () => (real ? real.json() : JSON.parse(utf8.decode(await read()))),
    arrayBuffer: async () => {
      if (real) return real.arrayBuffer();
      const bytes = await read();
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    },
    bytes: async () => (real ? real.bytes() : new Uint8Array(await read())),
  };

  // The target only lends the proxy Request's prototype (instanceof, the toString tag); nothing is kept on it.
  return new Proxy(Object.create(Request.prototype) as Request, {
    get(_target, key) {
      if (!real) {
        if (key === 'method') return parts.method;
        if (key === 'url') return parts.url;
        if (key === 'headers') return (headers ??= toHeaders(parts.headers));
        if (key === 'bodyUsed') return used;
        if (key === 'text' || key === 'json' || key === 'arrayBuffer' || key === 'bytes') return body[key];
        // A name a Request has neither as a member nor as an own property (its own are all symbols)
        // is undefined there too: `then`, asked whenever an async function returns the request.
        if (typeof key === 'string' && !(key in Request.prototype)) return undefined;
      }
      if (key === 'constructor') return Request;
      const request = materialise();
      const value: unknown = Reflect.get(request, key, request);
      return typeof value === 'function' ? value.bind(request) : value;
    },
    set: (_target, key, value) => Reflect.set(materialise(), key, value),
    has: (target, key) => (real ? Reflect.has(real, key) : Reflect.has(target, key)),
    defineProperty: (_target, key, descriptor) => Reflect.defineProperty(materialise(), key, descriptor),
    deleteProperty: (_target, key) => Reflect.deleteProperty(materialise(), key),
    ownKeys: () => Reflect.ownKeys(materialise()),
    getOwnPropertyDescriptor: (_target, key) => Reflect.getOwnPropertyDescriptor(materialise(), key),
  });
}
