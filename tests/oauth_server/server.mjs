// A real OAuth 2.0 authorization server for the test suite (oidc-provider).
// Usage: node server.mjs PORT ACCESS_TOKEN_TTL_SECONDS INTROSPECTION_SECRET
// Clients: "followup-test" (public, native: device flow, PKCE + loopback
// redirect, rotated refresh tokens) and "dovecot" (confidential, used by
// Dovecot's oauth2 passdb to call the introspection endpoint).
// Logins go through oidc-provider's development interactions, which accept
// any account name; the account id becomes the token's `sub`, which Dovecot
// takes as the IMAP user name.
import Provider from 'oidc-provider';

const [port, accessTtl, introspectionSecret] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const configuration = {
  clients: [
    {
      // Like a Google "Desktop app": a client secret sent in the token request.
      client_id: 'followup-confidential',
      client_secret: 'confidential-app-secret',
      token_endpoint_auth_method: 'client_secret_post',
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    {
      client_id: 'followup-test',
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      // Native loopback redirects may use any port (RFC 8252 7.3).
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: [
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code',
      ],
      response_types: ['code'],
    },
    {
      client_id: 'dovecot',
      client_secret: introspectionSecret,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  features: {
    deviceFlow: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    devInteractions: { enabled: true },
  },
  scopes: ['openid', 'offline_access', 'mail'],
  // Tokens without an audience are opaque and checked by introspection only.
  ttl: {
    AccessToken: Number(accessTtl),
    RefreshToken: 24 * 3600,
    DeviceCode: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 24 * 3600,
  },
  cookies: { keys: ['followup-test-cookie-key'] },
  async findAccount(_ctx, sub) {
    return { accountId: sub, async claims() { return { sub }; } };
  },
  // Introspection answers carry `username`, which Dovecot is told to read.
  async extraTokenClaims(_ctx, token) {
    return token.accountId ? { username: token.accountId } : undefined;
  },
};

const provider = new Provider(issuer, configuration);
// Every token issued, so a test can prove none of them leaked into the app's
// output, logs, database or config. Opaque token values are their ids.
for (const kind of ['access_token', 'refresh_token']) {
  provider.on(`${kind}.saved`, (token) => process.stdout.write(`issued ${kind} ${token.jti}\n`));
}
provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
