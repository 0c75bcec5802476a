// An upstream OpenID provider for cruise's federation tests: panva's
// oidc-provider on 127.0.0.1 with one confidential client (cruise) and one
// account whose "groups" claim the test checks. Interactions approve at
// once: the tests are about cruise's relying-party side, not this UI.
//
// usage: node upstream-provider.mjs PORT REDIRECT_URI
// prints "READY <issuer>" when listening.
import Provider from 'oidc-provider';

const [port, redirectURI] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'cruise',
    client_secret: 'cruise-upstream-secret',
    redirect_uris: [redirectURI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: 'RS256',
  }],
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    email: ['email'],
    groups: ['groups'],
  },
  // Put the scope claims in the ID token itself.
  conformIdTokenClaims: false,
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({
      sub,
      preferred_username: 'fed-user',
      name: 'Federated User',
      email: 'fed@example.org',
      groups: ['platform', 'admins'],
    }),
  }),
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['cruise-test-cookie-key'] },
});

provider.use(async (ctx, next) => {
  if (ctx.path.startsWith('/interaction/')) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const grant = new provider.Grant({ accountId: 'upstream-user-1', clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(ctx.req, ctx.res, {
      login: { accountId: 'upstream-user-1' },
      consent: { grantId },
    }, { mergeWithLastSubmission: false });
    return;
  }
  await next();
});

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`READY ${issuer}`);
});
