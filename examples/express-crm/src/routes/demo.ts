// Demo only: "the client sends an email". The message goes into the emulated inbox like any
// other mail; the page sees it arrive by push → sync → match → Server-Sent Event.
import { Router } from 'express';
import { EmailAddress } from '@threadlink/core';
import { z } from 'zod';
import { DEMO_PROVIDERS } from '../demo.js';
import { ApiError, parse } from '../http-errors.js';
import type { RouteContext } from './context.js';

const SendBody = z
  .strictObject({
    provider: z.enum(DEMO_PROVIDERS),
    from: EmailAddress,
    subject: z.string().trim().min(1).max(500),
    text: z.string().max(20_000).optional(),
    // HTML lets the demo show (and the tests prove) that hostile markup is neutralised.
    html: z.string().max(200_000).optional(),
  })
  .refine((input) => input.text !== undefined || input.html !== undefined, { message: 'Give text or html', path: ['text'] });

const displayAddress = (contact: { name: string } | undefined, address: string): string =>
  contact ? `${contact.name.replace(/["\\<>]/g, '')} <${address}>` : address;

export function demoRoutes({ demo, crm }: RouteContext): Router {
  const router = Router();
  router.post('/demo/send', async (request, response) => {
    if (!demo) throw new ApiError(404, 'NOT_DEMO', 'The demo mailbox only exists in demo mode');
    const input = parse(SendBody, request.body);
    const delivered = await demo.send({
      provider: input.provider,
      // A known contact writes under their name, as a real client would.
      from: displayAddress(crm.contact(input.from), input.from),
      subject: input.subject,
      ...(input.text !== undefined ? { text: input.text } : {}),
      ...(input.html !== undefined ? { html: input.html } : {}),
    });
    response.status(202).json(delivered);
  });
  return router;
}
