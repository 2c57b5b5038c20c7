// Binds a connect flow to the browser that started it, the way Auth.js binds its state and PKCE
// cookies: connect.start hands the host a cookie holding a fresh random secret, the sealed state
// holds only its SHA-256, and the callback needs both. A consent URL forwarded to someone else
// (the victim's browser has no such cookie) cannot land that person's mailbox in the sender's
// tenant, and a stolen cookie is useless without the state it belongs to.
import { createHash } from 'node:crypto';
import type { ConnectCookie } from '../api.js';
import { constantTimeEqual } from '../security/hash.js';
import { randomId } from '../util/clock.js';

const COOKIE_PREFIX = 'threadlink_connect_';

/** Loopback hosts, where browsers keep Secure cookies even over plain http. */
const LOOPBACK = /^(localhost|.+\.localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

function bindingHash(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

/** The cookie's name for a state: a short id of its nonce, so concurrent flows in one browser keep separate cookies. */
export function bindingCookieName(nonce: string): string {
  return `${COOKIE_PREFIX}${createHash('sha256').update(nonce, 'utf8').digest('base64url').slice(0, 8)}`;
}

/**
 * Secure unless publicUrl is plain http on a non-loopback host: browsers refuse to store a Secure
 * cookie from an http page there, which would make every connect fail. http://localhost and
 * http://127.0.0.1 keep Secure (browsers accept it on loopback).
 */
export function cookieIsSecure(publicUrl: URL): boolean {
  return publicUrl.protocol === 'https:' || LOOPBACK.test(publicUrl.hostname);
}

function serialize(name: string, value: string, attributes: ConnectCookie['attributes']): string {
  return [
    `${name}=${value}`,
    `Path=${attributes.path}`,
    `Max-Age=${attributes.maxAge}`,
    'HttpOnly',
    ...(attributes.secure ? ['Secure'] : []),
    'SameSite=Lax',
  ].join('; ');
}

export interface CookieSettings {
  /** The OAuth callback's path. */
  path: string;
  secure: boolean;
}

/** A fresh binding cookie for a state whose nonce is `nonce`; returns it and the hash the state must carry. */
export function createBindingCookie(nonce: string, ttlMs: number, settings: CookieSettings): { cookie: ConnectCookie; hash: string } {
  const value = randomId(32);
  const attributes: ConnectCookie['attributes'] = {
    httpOnly: true,
    secure: settings.secure,
    sameSite: 'lax',
    path: settings.path,
    maxAge: Math.max(1, Math.ceil(ttlMs / 1000)),
  };
  const name = bindingCookieName(nonce);
  return { cookie: { name, value, attributes, header: serialize(name, value, attributes) }, hash: bindingHash(value) };
}

/** The `Set-Cookie` value that makes the browser forget one connect cookie. */
export function clearingHeader(name: string, settings: CookieSettings): string {
  return [
    `${name}=`,
    `Path=${settings.path}`,
    'Max-Age=0',
    'Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    'HttpOnly',
    ...(settings.secure ? ['Secure'] : []),
    'SameSite=Lax',
  ].join('; ');
}

/** Every cookie of a `Cookie` request header, by name (the first of a repeated name wins). */
export function parseCookieHeader(header: string | null | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    const name = part.slice(0, separator).trim();
    if (name && !cookies.has(name)) cookies.set(name, part.slice(separator + 1).trim());
  }
  return cookies;
}

/** The names of every connect cookie in a `Cookie` header (the callback clears them all). */
export function connectCookieNames(cookies: Map<string, string>): string[] {
  return [...cookies.keys()].filter((name) => name.startsWith(COOKIE_PREFIX));
}

/** Whether the `Cookie` header holds the cookie this state was bound to. */
export function cookieMatches(cookies: Map<string, string>, state: { nonce: string; binding: string }): boolean {
  const value = cookies.get(bindingCookieName(state.nonce));
  return value !== undefined && value.length > 0 && constantTimeEqual(bindingHash(value), state.binding);
}
