// A small sample environment: scales to zero, at most 40 instances, a Key Vault for every secret, and a gateway that is
// configured on arrival: a JWT policy for your Entra ID tenant (`entra`), an API-key policy (`partner_keys`), a per-IP
// rate limit (`per_ip`) and a key that signs the user context sent upstream. infra/sample-routes.json names them.
//
//   export FUNCGATEWAY_ENTRA_TENANT_ID="$(az account show --query tenantId -o tsv)"
//   export FUNCGATEWAY_ADMIN_KEY="$(openssl rand -base64 32)"                   # optional; unset: admin surface off
//   export FUNCGATEWAY_RATE_LIMIT_KEY_HASH_SECRET="$(openssl rand -base64 32)"  # first deployment; unset later: kept
//   export FUNCGATEWAY_SIGNING_KEY="$(openssl rand -base64 32)"                 # first deployment; unset later: kept
//   az deployment group create -g "$RG" -n main --template-file infra/main.bicep --parameters infra/main.bicepparam
//
// No secret is written in this file: the secrets come from the environment of whoever deploys, and the template
// stores them only in Key Vault. Policy, tier and key names are letters, digits and '_' (they become app setting names).
using 'main.bicep'

param baseName = 'fgw-sample'

param tags = {
  app: 'FuncGateway'
  environment: 'sample'
}

param alwaysReadyInstanceCount = 0
param maximumInstanceCount = 40
param instanceMemoryMB = 2048

param deployKeyVault = true
param adminKey = readEnvironmentVariable('FUNCGATEWAY_ADMIN_KEY', '')
param rateLimitKeyHashSecret = readEnvironmentVariable('FUNCGATEWAY_RATE_LIMIT_KEY_HASH_SECRET', '')

// The response cache's optional Redis tier (docs/caching.md); unset: off.
param cacheRedisConnectionString = readEnvironmentVariable('FUNCGATEWAY_CACHE_REDIS_CONNECTION_STRING', '')

// An OpenTelemetry collector besides Application Insights (docs/observability.md); unset: none. Its headers usually
// hold its credentials ("api-key=..."): a secret, stored only in Key Vault.
param otlpEndpoint = readEnvironmentVariable('FUNCGATEWAY_OTLP_ENDPOINT', '')
param otlpProtocol = readEnvironmentVariable('FUNCGATEWAY_OTLP_PROTOCOL', 'grpc')
param otlpHeaders = readEnvironmentVariable('FUNCGATEWAY_OTLP_HEADERS', '')

param registryRefreshIntervalSeconds = '5'
param forwardingDefaultTimeoutSeconds = 100

// The tenant whose tokens the `entra` policy accepts. The default (all zeros) accepts none: set the variable.
var entraTenantId = readEnvironmentVariable('FUNCGATEWAY_ENTRA_TENANT_ID', '00000000-0000-0000-0000-000000000000')

// The audience a token must carry. The default is Azure Resource Manager's, so that `az account get-access-token`
// gives a token to try the gateway with (README "Deploying to Azure"), and every signed-in user of the tenant has one.
// For your own API, set your app registration's application ID URI (api://...) or client id instead.
var entraAudience = readEnvironmentVariable('FUNCGATEWAY_ENTRA_AUDIENCE', 'https://management.core.windows.net/')

param authPolicies = {
  // Entra ID access tokens in the v1.0 format (what Azure Resource Manager, and app registrations that do not ask for
  // v2.0 tokens, receive). For v2.0 tokens: Issuer 'https://login.microsoftonline.com/${entraTenantId}/v2.0' and
  // MetadataAddress 'https://login.microsoftonline.com/${entraTenantId}/v2.0/.well-known/openid-configuration'.
  entra: {
    Type: 'Jwt'
    Issuer: 'https://sts.windows.net/${entraTenantId}/'
    MetadataAddress: 'https://login.microsoftonline.com/${entraTenantId}/.well-known/openid-configuration'
    Audiences: [
      entraAudience
    ]
    UserIdClaim: 'oid'
    TierClaim: 'tier'
    ClaimHeaders: {
      // Underscores stand for hyphens in a mapped header's name: this is X-User-Tenant.
      X_User_Tenant: 'tid'
    }
  }

  // Keys created with `fgw keys create`, sent in the X-API-Key header.
  partner_keys: {
    Type: 'ApiKey'
    Header: 'X-API-Key'
  }
}

param apiKeyLookup = {
  CacheSeconds: 30
}

param rateLimitPolicies = {
  // 100 requests a minute per client address; callers of the `gold` tier (a key created with --tier gold) get 1000.
  per_ip: {
    Limit: 100
    WindowSeconds: 60
    PartitionBy: 'ClientIp'
    Tiers: {
      gold: {
        Limit: 1000
      }
    }
  }
}

// Browser pages of these origins may call the routes that name `web` in their Cors property (infra/sample-routes.json:
// the public route). No credentials: cookies and Authorization from a page are not admitted by this policy.
var corsOrigins = readEnvironmentVariable('FUNCGATEWAY_CORS_ORIGINS', 'http://localhost:3000')

param corsPolicies = {
  web: {
    AllowedOrigins: split(corsOrigins, ',')
    AllowedMethods: [
      'GET'
    ]
    MaxAgeSeconds: 600
  }
}

// An API served in two versions (docs/versioning.md): routes name `orders` in VersionSet, the version in ApiVersion,
// and '{version}' in their Path (/api/v1/orders, /api/v2/orders; /api/orders is v2). v1 is deprecated.
param versionSets = {
  orders: {
    Scheme: 'Path'
    Versions: [
      '1'
      '2'
    ]
    Default: '2'
    Deprecations: {
      '1': {
        Date: '2026-01-01'
        Sunset: '2026-07-01'
        SuccessorLink: '/api/v2/orders'
      }
    }
  }
}

param health = {
  RefreshIntervalSeconds: 5
}

param signing = {
  ActiveKeyId: 'k1'
}

param gatewaySecretNames = [
  'Auth__Signing__Keys__k1'
]

param gatewaySecrets = {
  // The key that signs the user context (X-Gateway-Signature); backends verify with the same key.
  Auth__Signing__Keys__k1: readEnvironmentVariable('FUNCGATEWAY_SIGNING_KEY', '')
}
