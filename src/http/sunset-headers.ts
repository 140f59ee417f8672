import type { FastifyReply } from 'fastify';
import type { SunsetAdvisory } from '../core/password-sunset.js';

/**
 * The headers of a password-grant sunset advisory, set on the reply before its body, so an error answer
 * (written later by the error handler) carries them too.
 */
export function sunsetHeaders(reply: FastifyReply, advisory: SunsetAdvisory): void {
  // RFC 9745 §2.1: the Deprecation field is a Structured Field Date, `@` and the epoch seconds.
  reply.header('Deprecation', `@${advisory.deprecatedAt}`);
  // RFC 8594 §3: Sunset is an HTTP-date; Date#toUTCString writes its IMF-fixdate form (RFC 9110 §5.6.7).
  reply.header('Sunset', new Date(advisory.sunsetAt * 1000).toUTCString());
  // RFC 8594 §3.1: the `sunset` link relation points at what the client should read about the sunset.
  if (advisory.link !== null) reply.header('Link', `<${advisory.link}>; rel="sunset"`);
}
