import { SignJWT, UnsecuredJWT } from 'jose';

/** Claims of a token minted by a test; `exp` and `nbf` in seconds since the epoch. */
export interface MintedClaims {
  readonly sub?: string;
  readonly name?: string;
  readonly rooms?: readonly string[];
  readonly exp?: number;
  readonly nbf?: number;
}

/** Seconds since the epoch. */
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** An HS256 token signed with `secret`; `exp` defaults to an hour from now. */
export function mintToken(secret: string, claims: MintedClaims): Promise<string> {
  const { sub, exp, nbf, ...rest } = claims;
  let jwt = new SignJWT({ ...rest })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(exp ?? nowSeconds() + 3600);
  if (sub !== undefined) jwt = jwt.setSubject(sub);
  if (nbf !== undefined) jwt = jwt.setNotBefore(nbf);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** An unsigned token (`alg: none`) with otherwise valid claims. */
export function unsignedToken(sub: string): string {
  return new UnsecuredJWT({})
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(nowSeconds() + 3600)
    .encode();
}
