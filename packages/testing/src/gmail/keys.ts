// The emulator's stand-in for Google's signing keys. Google signs ID tokens and
// Pub/Sub push tokens (RS256) with keys published twice: as X.509 certificates keyed
// by `kid` at https://www.googleapis.com/oauth2/v1/certs (what google-auth-library
// fetches in Node) and as a JWK set at https://www.googleapis.com/oauth2/v3/certs.
// Both endpoints here serve the same key, so real verification code runs unchanged.
import { createHash, generateKeyPair as generateKeyPairCallback, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { SignJWT, type JWK, type JWTPayload } from 'jose';
import { generate as generateCertificate } from 'selfsigned';

const generateKeyPair = promisify(generateKeyPairCallback);

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** PEM X.509 certificate, as served by /oauth2/v1/certs. */
  certificate: string;
  jwk: JWK;
}

async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('rsa', { modulusLength: 2048 });
  const publicDer = publicKey.export({ type: 'spki', format: 'der' });
  // Google's kids are 40 hex characters (a SHA-1 over the key).
  const kid = createHash('sha1').update(publicDer).digest('hex');
  const now = Date.now();
  const { cert } = await generateCertificate([{ name: 'commonName', value: 'federated-signon.system.gserviceaccount.com' }], {
    keyPair: {
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    },
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 24 * 3600_000),
    notAfterDate: new Date(now + 14 * 24 * 3600_000),
  });
  const exported = publicKey.export({ format: 'jwk' }) as { n: string; e: string; kty: string };
  const jwk: JWK = { kty: 'RSA', alg: 'RS256', use: 'sig', kid, n: exported.n, e: exported.e };
  return { kid, privateKey, publicKey, certificate: cert, jwk };
}

let shared: Promise<SigningKey> | undefined;
let foreign: Promise<SigningKey> | undefined;

/**
 * Google signs for everyone with one rotating key set, so emulators in one process
 * share a key too (RSA generation costs ~200 ms, paid once per test run).
 */
export function sharedSigningKey(): Promise<SigningKey> {
  shared ??= createSigningKey();
  return shared;
}

/** A key no emulator publishes, for forged-token tests. */
export function foreignSigningKey(): Promise<SigningKey> {
  foreign ??= createSigningKey();
  return foreign;
}

export interface SignOptions {
  /** Header overrides (e.g. a different `kid` or `alg` for forged-token tests). */
  header?: Record<string, unknown>;
}

export async function signJwt(key: SigningKey, claims: JWTPayload, options: SignOptions = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT', ...(options.header ?? {}) }).sign(key.privateKey);
}
