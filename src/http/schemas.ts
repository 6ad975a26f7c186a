import { Type } from 'typebox';

/** Every error answer: the message clients and the original tutorial expect, and a stable code. */
export const ErrorResponse = Type.Object(
  {
    message: Type.String(),
    code: Type.String({ description: 'Stable machine-readable error code' }),
  },
  { description: 'Error' },
);

export const MessageResponse = Type.Object({ message: Type.String() });

/**
 * A positive database id as it appears in a URL: digits only, no sign,
 * exponent or leading zero, at most 15 digits (below 2^53).
 */
export const IdString = Type.String({ pattern: '^[1-9][0-9]{0,14}$', description: 'Positive integer id' });
