// Typed JSON errors for the page's API: every failure is `{ error: { code, message, issues? } }`
// with an honest status, whether it came from input validation, the CRM or threadlink.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { isThreadlinkError, type Logger } from '@threadlink/core';
import { z } from 'zod';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface ApiErrorBody {
  error: { code: string; message: string; issues?: Array<{ path: string; message: string }> };
}

/** Parses request input; a mismatch becomes a 400 INVALID_INPUT listing each problem. */
export function parse<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw result.error;
}

export const notFound: RequestHandler = (request, response) => {
  response
    .status(404)
    .json({ error: { code: 'NOT_FOUND', message: `No route ${request.method} ${request.originalUrl.split('?')[0]}` } } satisfies ApiErrorBody);
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _request, response, _next) => {
    if (response.headersSent) return;
    let status = 500;
    let body: ApiErrorBody = { error: { code: 'INTERNAL', message: 'Internal error' } };
    if (error instanceof z.ZodError) {
      status = 400;
      body = {
        error: {
          code: 'INVALID_INPUT',
          message: 'The request is invalid',
          issues: error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
        },
      };
    } else if (error instanceof ApiError) {
      status = error.status;
      body = { error: { code: error.code, message: error.message } };
    } else if (isThreadlinkError(error)) {
      status = error.status;
      // Internal details of a 5xx stay in the log; the page gets the stable code. SEND_UNCONFIRMED's
      // message is written for the user (the reply may have gone out: look in Sent before resending).
      const forUser = error.status < 500 || error.code === 'SEND_UNCONFIRMED';
      body = { error: { code: error.code, message: forUser ? error.message : 'The mail service failed' } };
    } else if (isBodyParserError(error)) {
      status = error.status;
      body = {
        error: {
          code: error.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_INPUT',
          message: error.status === 413 ? 'Request body too large' : 'The request body is not valid JSON',
        },
      };
    }
    if (status >= 500) logger.error('api request failed', { code: body.error.code, error });
    response.status(status).json(body);
  };
}

function isBodyParserError(error: unknown): error is { status: number; type: string } {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { status?: unknown }).status === 'number' &&
    typeof (error as { type?: unknown }).type === 'string'
  );
}
