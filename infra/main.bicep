// FuncGateway on Azure: a Function App on the Flex Consumption plan (Linux, .NET 10 isolated worker) whose route
// registry lives in Table Storage, reached with the app's managed identity; Application Insights on a Log Analytics
// workspace; an optional Key Vault for secrets. Deploy into a resource group:
//
//   az deployment group create -g "$RG" -n main --template-file infra/main.bicep --parameters infra/main.bicepparam
//
// See infra/README.md. The compiled template is checked by tests/FuncGateway.Infra.Tests.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------------------------------------------------

@description('Azure region of every resource. It must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@description('Short name of this environment, used in every resource name: 3-16 lowercase letters, digits and hyphens, starting with a letter.')
@minLength(3)
@maxLength(16)
param baseName string

@description('Tags for every resource.')
param tags object = {}

@description('Storage replication.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
])
param storageSkuName string = 'Standard_LRS'

@description('Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

// ---------------------------------------------------------------------------------------------------------------------
// Scale (Flex Consumption)
// ---------------------------------------------------------------------------------------------------------------------

@description('Always-ready instances for the HTTP functions: no cold start for the first requests, billed while idle. 0 scales to zero.')
@minValue(0)
@maxValue(1000)
param alwaysReadyInstanceCount int = 0

@description('Most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of one instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Concurrent HTTP requests per instance before Flex Consumption adds an instance (functionAppConfig.scaleAndConcurrency.triggers.http.perInstanceConcurrency). A gateway request mostly waits on its upstream, so a gateway usually wants more than the platform\'s default (16 at 2048 MB). 0: the platform\'s default for the instance size.')
@minValue(0)
@maxValue(1000)
param httpPerInstanceConcurrency int = 0

// ---------------------------------------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------------------------------------

@description('Create a Key Vault for the gateway\'s secrets, read by the app through Key Vault references. Required: the rate-limit counter key secret lives there.')
param deployKeyVault bool = true

@description('Admin key (FuncGateway:Admin:Key) for the /_gateway/ endpoints. Stored only in Key Vault, so it needs deployKeyVault. Empty: admin surface off. Never write it into a parameters file: main.bicepparam reads it from the environment.')
@secure()
param adminKey string = ''

@description('FuncGateway:RateLimits:KeyHashSecret: rate-limit counter rows are keyed by an HMAC of client addresses and user ids under this secret (at least 32 characters). Stored only in Key Vault. Required on the first deployment; empty later keeps the secret already in the vault; a new value rotates it (counters restart). main.bicepparam reads it from the environment.')
@secure()
param rateLimitKeyHashSecret string = ''

@description('FuncGateway:Cache:RedisConnectionString: the optional shared tier of the response cache (docs/caching.md), a StackExchange.Redis connection string such as name.redis.cache.windows.net:6380,password=...,ssl=true. Stored only in Key Vault. Empty (the default): off, each instance caches alone.')
@secure()
param cacheRedisConnectionString string = ''

@description('OTEL_EXPORTER_OTLP_HEADERS: headers for the collector at otlpEndpoint, usually its credentials (api-key=...; comma-separated key=value pairs, values URL-encoded). Stored only in Key Vault. Empty (the default): none.')
@secure()
param otlpHeaders string = ''

// ---------------------------------------------------------------------------------------------------------------------
// Gateway settings (README "Configuration"; the defaults are the gateway's own)
// ---------------------------------------------------------------------------------------------------------------------

@description('FuncGateway:Storage:TablePrefix: the registry tables are {prefix}Routes, {prefix}Upstreams and {prefix}Schemas.')
@minLength(1)
@maxLength(40)
param tablePrefix string = 'Gateway'

@description('FuncGateway:Registry:RefreshIntervalSeconds (0.2-3600): how often every instance re-reads the registry. A whole number, or a string for a fraction (\'0.5\').')
#disable-next-line no-explicit-any
param registryRefreshIntervalSeconds any = '5'

@description('FuncGateway:Registry:Groups: the route groups this gateway serves, comma-separated (web, or web,partner): only routes whose Groups name one of them. Empty: every route. See docs/route-groups.md.')
param routeGroups string = ''

@description('An existing storage account in this resource group whose registry tables this gateway reads instead of its own account\'s: another gateway\'s (deploy a web and a mobile gateway against one registry, see docs/route-groups.md). The app gets Storage Table Data Contributor on it. Empty: this deployment\'s own account.')
@maxLength(24)
param registryStorageAccountName string = ''

@description('FuncGateway:Registry:StartupWaitSeconds (0-120): how long a request arriving before the first snapshot waits for it. A whole number, or a string for a fraction (\'0.5\').')
#disable-next-line no-explicit-any
param registryStartupWaitSeconds any = 10

@description('FuncGateway:Registry:ReadTimeoutSeconds (1-300): timeout of one registry read. A whole number, or a string for a fraction (\'2.5\').')
#disable-next-line no-explicit-any
param registryReadTimeoutSeconds any = 15

@description('FuncGateway:Forwarding:DefaultTimeoutSeconds (0.001-230): upstream inactivity timeout for routes without one. At most 230: the Azure front end ends longer responses. A whole number, or a string for a fraction (\'0.5\').')
#disable-next-line no-explicit-any
param forwardingDefaultTimeoutSeconds any = 100

@description('FuncGateway:Forwarding:ConnectTimeoutSeconds (0.1-300): TCP connect timeout to an upstream. A whole number, or a string for a fraction (\'0.5\').')
#disable-next-line no-explicit-any
param forwardingConnectTimeoutSeconds any = 10

@description('FuncGateway:Forwarding:PooledConnectionLifetimeSeconds: pooled connections are replaced after this, so DNS changes are seen.')
@minValue(1)
@maxValue(86400)
param forwardingPooledConnectionLifetimeSeconds int = 300

@description('FuncGateway:Forwarding:PooledConnectionIdleTimeoutSeconds: idle pooled connections are closed after this.')
@minValue(1)
@maxValue(86400)
param forwardingPooledConnectionIdleTimeoutSeconds int = 60

@description('FuncGateway:Forwarding:MaxRequestBodySizeBytes: larger request bodies get 413. At most 100 MB, the platform\'s limit for HTTP functions.')
@minValue(0)
@maxValue(104857600)
param forwardingMaxRequestBodySizeBytes int = 104857600

@description('FuncGateway:Forwarding:MaxBufferedResponseBytes: the largest upstream response body buffered on a route whose response transforms need the body; a larger one gets 502 response_too_large. Other routes stream.')
@minValue(1)
@maxValue(1073741824)
param forwardingMaxBufferedResponseBytes int = 1048576

@description('FuncGateway:Forwarding:MaxComposedResponseBytes: on a composition route, the most one request may hold: its parts\' answers together, and the composed body, each at most this; over it, 502 composition_too_large.')
@minValue(1024)
@maxValue(1073741824)
param forwardingMaxComposedResponseBytes int = 8388608

@description('FuncGateway:Forwarding:PublicHosts: host names clients may use, comma-separated (api.example.com, *.example.com, optional :port). Other hosts get 421. Empty: the app\'s default host name only. Add custom domains here.')
param forwardingPublicHosts string = ''

@description('FuncGateway:Forwarding:AllowedUpstreams: host names (exact or *.suffix, optional :port), IP addresses and CIDR ranges routes and pools may point at, comma-separated. Empty: any host. Link-local and metadata addresses are always refused.')
param forwardingAllowedUpstreams string = ''
@description('FuncGateway:Forwarding:MinResponseDataRateBytesPerSecond: a client reading a response slower than this is cut off and its upstream request cancelled; 0 turns it off. In the Functions app it applies between the host and the worker.')
@minValue(0)
@maxValue(1000000000)
param forwardingMinResponseDataRateBytesPerSecond int = 4096

@description('FuncGateway:Forwarding:MinResponseDataRateGraceSeconds: how long any write may take before the minimum response data rate is enforced.')
@minValue(2)
@maxValue(3600)
param forwardingMinResponseDataRateGraceSeconds int = 10

@description('FuncGateway:ForwardedHeaders:TrustedProxies: the Functions host proxies every request to the worker over loopback.')
param trustedProxies string = '127.0.0.0/8,::1'

@description('FuncGateway:Cache:MaxEntryBytes: the largest cached response (body plus headers); larger ones stream through uncached.')
@minValue(1024)
@maxValue(1073741824)
param cacheMaxEntryBytes int = 1048576

@description('FuncGateway:Cache:MaxTotalBytes: all cached responses of one instance together; the least recently used are evicted first.')
@minValue(1024)
param cacheMaxTotalBytes int = 268435456

@description('FuncGateway:Discovery:Dns:Servers: comma-separated DNS servers (address or address:port) the dns and srv discovery sources ask (docs/discovery.md). Empty: the system resolvers (in Azure, the VNet\'s DNS).')
param discoveryDnsServers string = ''

@description('FuncGateway:Discovery:Dns:MinTtlSeconds: the shortest time between two lookups of a discovered name, whatever its TTL.')
@minValue(1)
@maxValue(3600)
param discoveryDnsMinTtlSeconds int = 5

@description('FuncGateway:Discovery:Dns:MaxTtlSeconds: the longest time between two lookups of a discovered name, whatever its TTL.')
@minValue(1)
@maxValue(86400)
param discoveryDnsMaxTtlSeconds int = 300

@description('FuncGateway:Discovery:Registration:RefreshSeconds: how often every instance reads the self-registrations ({prefix}Instances); a lapsed lease leaves within one interval.')
@minValue(1)
@maxValue(3600)
param discoveryRegistrationRefreshSeconds int = 10

@description('FuncGateway:Discovery:Registration:Keys without the keys: registration keys by name, each { Pools: \'orders,orders-eu\' } (Pools may be an array), the pools the key may register instances into (docs/discovery.md). The keys themselves are secrets: gatewaySecretNames Discovery__Registration__Keys__<name>__Key.')
param discoveryRegistrationKeys object = {}

@description('FuncGateway:Telemetry:SamplingRatio: share of new traces recorded (0-1, parent-based), as a string (e.g. \'0.1\').')
param telemetrySamplingRatio string = '0.1'

@description('FuncGateway:Telemetry:AccessLog: Off, Console or Logger (one JSON line per request; Logger sends it to Application Insights as a trace).')
@allowed([
  'Off'
  'Console'
  'Logger'
])
param telemetryAccessLog string = 'Off'

@description('FuncGateway:Telemetry:AcceptClientRequestId: keep a client\'s valid X-Request-Id instead of generating one.')
param telemetryAcceptClientRequestId bool = false

@description('FuncGateway:Telemetry:TrustClientTraceContext: continue any client\'s traceparent (the Functions host\'s own trace is continued regardless).')
param telemetryTrustClientTraceContext bool = false

@description('FuncGateway:Telemetry:ForwardBaggage: pass the client\'s W3C baggage header on to upstreams.')
param telemetryForwardBaggage bool = false

@description('OTEL_EXPORTER_OTLP_ENDPOINT: an OpenTelemetry collector to send traces and metrics to as well (empty: none). Application Insights is always wired.')
param otlpEndpoint string = ''

@description('OTEL_EXPORTER_OTLP_PROTOCOL: how the collector at otlpEndpoint is spoken to, grpc (port 4317 by convention) or http/protobuf (4318).')
@allowed([
  'grpc'
  'http/protobuf'
])
param otlpProtocol string = 'grpc'

@description('OTEL_SERVICE_NAME: the service name telemetry carries (Application Insights\' cloud_RoleName). Empty: the Function App\'s name, as the Functions host\'s own telemetry has it.')
param otelServiceName string = ''

@description('Further settings of the OpenTelemetry SDK, by their own names (docs/observability.md): OTEL_RESOURCE_ATTRIBUTES (\'deployment.environment=prod,team=platform\'), OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_MAX_QUEUE_SIZE, ... Each becomes an app setting of the same name: a deployment writes the whole list, so one set by hand in the portal would be gone after the next. Names start with OTEL_; the four settings with parameters of their own and every *HEADERS setting (credentials: otlpHeaders, stored in Key Vault) are refused here.')
param otelSettings object = {}

// ---------------------------------------------------------------------------------------------------------------------
// Gateway configuration sections (README "Identity at the edge", "Rate limits", "Never routing to a dead instance")
//
// Each object below is one section of the gateway's configuration, written as it would be in JSON; the template turns
// it into app settings (FuncGateway__<Section>__<name>__<Key>, up to four levels deep). Names that end up in a setting
// name (policy names, tier names, key ids, user names, ClaimHeaders with '_' for '-') may hold only letters, digits
// and '_': Azure refuses any other character in an app setting name. Secrets never go here: see gatewaySecrets.
// ---------------------------------------------------------------------------------------------------------------------

@description('FuncGateway:Auth:Policies: authentication policies by name, each { Type: \'Jwt\' | \'ApiKey\' | \'Basic\', ...its keys }. Lists (Audiences, Algorithms, ...) may be arrays. Secrets (SymmetricKeys, Users) go in gatewaySecrets.')
param authPolicies object = {}

@description('FuncGateway:Auth:ApiKeys: the API-key lookup settings (CacheSeconds, NegativeCacheSeconds, CacheSize, LookupTimeoutSeconds, StaleIfErrorSeconds).')
param apiKeyLookup object = {}

@description('FuncGateway:Auth:Signing without its keys: { ActiveKeyId: \'k1\' } (optional with one key). The keys themselves are secrets: gatewaySecrets Auth__Signing__Keys__<id>.')
param signing object = {}

@description('FuncGateway:RateLimits:Policies: rate-limit policies by name, each { Limit, WindowSeconds, PartitionBy, ..., Tiers: { <tier>: { Limit, Burst } } }.')
param rateLimitPolicies object = {}

@description('FuncGateway:Cors:Policies: CORS policies by name, each { AllowedOrigins, AllowedMethods, AllowedHeaders, ExposedHeaders, AllowCredentials, MaxAgeSeconds }. Lists may be arrays. Routes name a policy in their Cors property.')
param corsPolicies object = {}

@description('FuncGateway:Versioning:Sets: API version sets by name, each { Scheme, Parameter, PathPrefix, Versions, Default, Deprecations: { <version>: { Date, Sunset, SuccessorLink, DeprecationLink } } }. Versions may be an array. Routes name a set in their VersionSet property (docs/versioning.md).')
param versionSets object = {}

@description('FuncGateway:Health: how instances read and probe upstream health (RefreshIntervalSeconds, ...).')
param health object = {}

@description('Any other FuncGateway setting, as a nested object under FuncGateway (or flat, with __ between the parts): for sections that later capabilities add.')
param gatewaySettings object = {}

@description('The names of the secret FuncGateway settings, without the FuncGateway__ prefix: Auth__Signing__Keys__<id>, Auth__Policies__<name>__SymmetricKeys__<kid>, Auth__Policies__<name>__Users__<user>, Discovery__Consul__Token, Discovery__Registration__Keys__<name>__Key. Each becomes a Key Vault reference to the secret FuncGateway--<name, with - for _>. Names, not values: a deployment can be previewed without the secrets.')
param gatewaySecretNames array = []

@description('The values of those secrets, by the same names. Stored only in Key Vault. A missing or empty value writes no new version: the one already in the vault stays in use (the first deployment must give every one). main.bicepparam reads them from the environment.')
@secure()
param gatewaySecrets object = {}

// ---------------------------------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------------------------------

var suffix = uniqueString(resourceGroup().id, baseName)
var compactBaseName = replace(toLower(baseName), '-', '')
var names = {
  functionApp: '${baseName}-${suffix}'
  plan: 'plan-${baseName}'
  storage: take('st${suffix}${compactBaseName}', 24)
  keyVault: take('kv${suffix}${compactBaseName}', 24)
  logAnalytics: 'log-${baseName}'
  appInsights: 'appi-${baseName}'
  deploymentContainer: 'app-package'
}

// ---------------------------------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------------------------------

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    skuName: storageSkuName
    deploymentContainerName: names.deploymentContainer
    tableNames: [
      '${tablePrefix}Routes'
      '${tablePrefix}Upstreams'
      '${tablePrefix}Schemas'
    ]
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
  }
}

module keyVault 'modules/keyVault.bicep' = if (deployKeyVault) {
  name: 'keyVault'
  params: {
    name: names.keyVault
    location: location
    tags: tags
    adminKey: adminKey
    rateLimitKeyHashSecret: rateLimitKeyHashSecret
    cacheRedisConnectionString: cacheRedisConnectionString
    otlpHeaders: otlpHeaders
    secretNames: map(gatewaySecretNames, name => keyVaultSecretName('FuncGateway__${name}'))
    secretValues: empty(undeclaredSecrets)
      ? toObject(items(gatewaySecrets), e => keyVaultSecretName('FuncGateway__${e.key}'), e => e.value)
      : fail('gatewaySecrets has values for names that gatewaySecretNames does not list: ${join(undeclaredSecrets, ', ')}')
  }
}

module functionApp 'modules/functionApp.bicep' = {
  name: 'functionApp'
  params: {
    planName: names.plan
    appName: names.functionApp
    location: location
    tags: tags
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    alwaysReadyInstanceCount: alwaysReadyInstanceCount
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
  }
}

module roleAssignments 'modules/roleAssignments.bicep' = {
  name: 'roleAssignments'
  params: {
    // Part of each assignment's name on purpose: a recreated app (new identity) gets new assignments instead of
    // failing to update the old ones. What-If cannot predict those names; deployments are not affected.
    #disable-next-line what-if-short-circuiting
    principalId: functionApp.outputs.principalId
    storageAccountName: names.storage
    registryStorageAccountName: registryStorageAccountName
    appInsightsName: names.appInsights
    keyVaultName: deployKeyVault ? names.keyVault : ''
  }
  // The storage account comes first already: functionApp needs its deployment container.
  dependsOn: [
    monitoring
    keyVault
  ]
}

// The registry: this deployment's own account, or another gateway's (route groups: several gateways, one registry).
var registryTableEndpoint = empty(registryStorageAccountName)
  ? storage.outputs.tableEndpoint
  : 'https://${registryStorageAccountName}.table.${environment().suffixes.storage}/'

// Every secret reaches the app only as a Key Vault reference, never as a value in an app setting or in this
// deployment's inputs. The reference names the vault by its deterministic URI (the vault is created in this template),
// so that the app settings can be evaluated before deployment (tests/FuncGateway.Infra.Tests does) and carry no
// runtime expression.
var keyVaultUri = 'https://${names.keyVault}${environment().suffixes.keyvaultDns}/'

// Key Vault secret names allow letters, digits and hyphens: '--' stands for the configuration key separator and '-'
// for '_' (so the app setting FuncGateway__Auth__Signing__Keys__k_2 is the secret FuncGateway--Auth--Signing--Keys--k-2).
func keyVaultSecretName(settingName string) string => replace(settingName, '_', '-')

// The admin key: an empty setting leaves the admin surface off.
var adminKeySetting = empty(adminKey)
  ? ''
  : deployKeyVault
      ? '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/FuncGateway--Admin--Key)'
      : fail('adminKey needs deployKeyVault = true: the admin key is only ever stored in Key Vault.')

// The counter key secret likewise, and always: the app reaches storage with its identity, so there is no account key
// to derive one from, and the gateway refuses to start without it. An empty parameter writes no new secret version:
// the reference then reads the one an earlier deployment stored.
var rateLimitKeyHashSecretSetting = deployKeyVault
  ? '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/FuncGateway--RateLimits--KeyHashSecret)'
  : fail('deployKeyVault must be true: the rate-limit counter key secret (FuncGateway:RateLimits:KeyHashSecret) is only ever stored in Key Vault.')

// The cache's Redis connection string holds a password: Key Vault only, and an empty setting leaves the tier off.
var cacheRedisConnectionStringSetting = empty(cacheRedisConnectionString)
  ? ''
  : deployKeyVault
      ? '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/FuncGateway--Cache--RedisConnectionString)'
      : fail('cacheRedisConnectionString needs deployKeyVault = true: the connection string is only ever stored in Key Vault.')

// The collector's headers usually carry its credentials: Key Vault only, and an empty setting sends none.
var otlpHeadersSetting = empty(otlpHeaders)
  ? ''
  : deployKeyVault
      ? '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/OTEL-EXPORTER-OTLP-HEADERS)'
      : fail('otlpHeaders needs deployKeyVault = true: the collector\'s headers are only ever stored in Key Vault.')

// ---------------------------------------------------------------------------------------------------------------------
// Configuration sections to app settings
// ---------------------------------------------------------------------------------------------------------------------

// Bicep has no type test; an object (or array) is told apart by how it serialises inside an array.
#disable-next-line no-explicit-any
func isObject(value any) bool => startsWith(string([value]), '[{')

// A value as the gateway reads it: a list comma-separated, anything else as its text.
#disable-next-line no-explicit-any
func settingText(value any) string => startsWith(string([value]), '[[') ? join(value, ',') : string(value)

// A setting whose value is a JSON document (a Jwt policy's Jwks): given as an object, it is written as its JSON text,
// not taken apart into settings of its own.
func isJsonDocument(key string) bool => toLower(key) == 'jwks'

// An entry that is a section of further settings: an object, unless its value is a JSON document.
#disable-next-line no-explicit-any
func isSection(key string, value any) bool => isObject(value) && !isJsonDocument(key)

// { A: 1, B: { c: 2 } } under prefix P is { P__A: '1', P__B__c: '2' }, for up to four levels of objects. Deeper
// nesting stops the deployment rather than being dropped.
func leafSettings(prefix string, section object) object =>
  toObject(filter(items(section), e => !isSection(e.key, e.value)), e => '${prefix}__${e.key}', e => isJsonDocument(e.key) ? string(e.value) : settingText(e.value))
func settings1(prefix string, section object) object =>
  empty(filter(items(section), e => isSection(e.key, e.value)))
    ? leafSettings(prefix, section)
    : fail('${prefix}: the configuration is nested too deeply for the template (at most four levels of objects).')
func settings2(prefix string, section object) object =>
  reduce(filter(items(section), e => isSection(e.key, e.value)), leafSettings(prefix, section), (all, e) => union(all, settings1('${prefix}__${e.key}', e.value)))
func settings3(prefix string, section object) object =>
  reduce(filter(items(section), e => isSection(e.key, e.value)), leafSettings(prefix, section), (all, e) => union(all, settings2('${prefix}__${e.key}', e.value)))
func settings4(prefix string, section object) object =>
  reduce(filter(items(section), e => isSection(e.key, e.value)), leafSettings(prefix, section), (all, e) => union(all, settings3('${prefix}__${e.key}', e.value)))

// A number of seconds the gateway reads as a double: a parameter given as a whole number (10) or, since Bicep has no
// fractions, as a string ('0.5'). Checked here against the gateway's own range, so that a value it would refuse at
// start-up stops the deployment instead, naming the parameter. Decimal digits only: no sign, exponent or spaces.
#disable-next-line no-explicit-any
func seconds(name string, value any, minMilliseconds int, maxMilliseconds int, range string) string =>
  secondsInRange(string(value), minMilliseconds, maxMilliseconds)
    ? string(value)
    : fail('${name}: \'${string(value)}\' is not a number of seconds from ${range} (a whole number, or a string such as \'0.5\')')

// ARM's && does not stop at the first false operand: ?: does, so that int() only ever sees digits.
func secondsInRange(text string, minMilliseconds int, maxMilliseconds int) bool =>
  isDecimal(text) ? millisecondsInRange(wholeMilliseconds(text), empty(replace(fractionDigits(text, 3), '0', '')), minMilliseconds, maxMilliseconds) : false

// Whole milliseconds within [min, max]; exact: no non-zero digit beyond the third decimal (only max needs it).
func millisecondsInRange(milliseconds int, exact bool, minMilliseconds int, maxMilliseconds int) bool =>
  milliseconds >= minMilliseconds && (milliseconds < maxMilliseconds || (milliseconds == maxMilliseconds && exact))

// '12' or '12.5': digits, then at most one '.' followed by digits; at most nine digits before it (beyond every maximum
// here, and int() stays in range).
func isDecimal(text string) bool =>
  isDecimalParts(split(text, '.')) && empty(reduce(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '.'], text, (rest, c) => replace(rest, c, '')))
func isDecimalParts(parts array) bool =>
  length(parts) <= 2 && !empty(parts[0]) && length(parts[0]) <= 9 && (length(parts) == 1 || !empty(last(parts)))

// The digits after the point from the given position on ('' when there are none).
func fractionDigits(text string, from int) string => length(split(text, '.')) == 2 ? skip(split(text, '.')[1], from) : ''

// The value in whole milliseconds, the digits beyond the third decimal cut off.
func wholeMilliseconds(text string) int =>
  int(split(text, '.')[0]) * 1000 + int(take('${length(split(text, '.')) == 2 ? split(text, '.')[1] : ''}000', 3))

// The secrets as app settings (name to reference). The values go to the vault in keyVault.bicep.
var gatewaySecretSettings = toObject(
  gatewaySecretNames,
  name => 'FuncGateway__${name}',
  name => '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/${keyVaultSecretName('FuncGateway__${name}')})'
)
var undeclaredSecrets = filter(objectKeys(gatewaySecrets), name => !contains(gatewaySecretNames, name))

// The settings from the plain (not secure) objects: their values are kept in the deployment's history and shown
// wherever the deployment is, so none of them may be a secret.
var plainSettings = union(
  settings4('FuncGateway', gatewaySettings),
  settings4('FuncGateway__Auth__Policies', authPolicies),
  settings4('FuncGateway__Auth__ApiKeys', apiKeyLookup),
  settings4('FuncGateway__Auth__Signing', signing),
  settings4('FuncGateway__RateLimits__Policies', rateLimitPolicies),
  settings4('FuncGateway__Cors__Policies', corsPolicies),
  settings4('FuncGateway__Versioning__Sets', versionSets),
  settings4('FuncGateway__Health', health),
  settings4('FuncGateway__Discovery__Registration__Keys', discoveryRegistrationKeys)
)
var configuredSettings = union(plainSettings, gatewaySecretSettings, otelExtraSettings)

// The OpenTelemetry SDK's own settings (OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*): not FuncGateway settings, but read from
// the app settings all the same. Only OTEL_ names, and none that a parameter above already writes (it would win
// silently) or that carries the collector's credentials (a plain parameter's value is kept in the deployment history).
// A configured setting that one of the fixed settings below also writes would lose to it without a word (they are
// written last): it stops the deployment instead, naming the setting, whose parameter is the place to set it.
var fixedSettingNames = map(objectKeys(appSettings), name => toLower(name))
var shadowedSettings = filter(objectKeys(configuredSettings), name => contains(fixedSettingNames, toLower(name)))

var otelExtraSettings = toObject(items(otelSettings), e => e.key, e => settingText(e.value))
var otelSettingsWithParameters = [
  'OTEL_EXPORTER_OTLP_ENDPOINT'
  'OTEL_EXPORTER_OTLP_PROTOCOL'
  'OTEL_EXPORTER_OTLP_HEADERS'
  'OTEL_SERVICE_NAME'
]
var badOtelSettings = filter(
  objectKeys(otelSettings),
  name => !startsWith(toUpper(name), 'OTEL_') || contains(otelSettingsWithParameters, toUpper(name)) || contains(toUpper(name), 'HEADERS')
)

// The settings whose values are secrets (README "Deploying to Azure", docs/authentication.md): a Jwt policy's
// SymmetricKeys, a Basic policy's Users, the signing keys, and the secrets the template has parameters of its own for.
// Given in a plain object, one stops the deployment, naming it, before its value is stored anywhere.
var secretSettingMarkers = [
  '__symmetrickeys__'
  '__users__'
  'funcgateway__auth__signing__keys__'
  'funcgateway__admin__key'
  'funcgateway__ratelimits__keyhashsecret'
  'funcgateway__cache__redisconnectionstring'
  'funcgateway__discovery__consul__token'
  // An account key in a connection string; the app reads its registry with its identity (TableServiceUri) instead.
  'funcgateway__storage__connectionstring'
]
var secretsInPlainSettings = filter(
  objectKeys(plainSettings),
  name => !empty(filter(secretSettingMarkers, marker => contains(toLower(name), marker))) || isRegistrationKey(name)
)

// A registration key's secret (FuncGateway__Discovery__Registration__Keys__<name>__Key); its Pools are no secret.
func isRegistrationKey(name string) bool =>
  startsWith(toLower(name), 'funcgateway__discovery__registration__keys__') && endsWith(toLower(name), '__key')

// Azure accepts app setting names of letters, digits, '.' and '_'; a shell variable takes no '.' either. A name with
// anything else ('per-ip') stops the deployment here, naming it, instead of failing in Azure or in a shell.
var settingNameCharacters = 'abcdefghijklmnopqrstuvwxyz0123456789_'
var badSettingNames = filter(
  objectKeys(configuredSettings),
  name => !empty(reduce(map(range(0, length(settingNameCharacters)), i => substring(settingNameCharacters, i, 1)), toLower(name), (rest, c) => replace(rest, c, '')))
)

// THE list of app settings: the Functions host's and every FuncGateway setting the gateway reads at start-up.
// Keys are literal so the compiled template shows every one of them; tests/FuncGateway.Infra.Tests checks this list
// against its own (GatewaySettings.ReadAtStartup). To add a setting, add one line here (a parameter if it varies
// between environments) and its name there. Secrets: a Key Vault reference, as for the admin key.
var appSettings = {
  // Functions host storage through the app's identity: no connection string, no account key.
  AzureWebJobsStorage__accountName: storage.outputs.name
  AzureWebJobsStorage__credential: 'managedidentity'
  // Telemetry, sent with the app's identity (local authentication is off on the component).
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol
  OTEL_EXPORTER_OTLP_HEADERS: otlpHeadersSetting
  OTEL_SERVICE_NAME: otelServiceName
  // FuncGateway: the registry through the app's identity (DefaultAzureCredential picks the managed identity).
  FuncGateway__Storage__TableServiceUri: registryTableEndpoint
  FuncGateway__Storage__TablePrefix: tablePrefix
  FuncGateway__Registry__RefreshIntervalSeconds: seconds('registryRefreshIntervalSeconds', registryRefreshIntervalSeconds, 200, 3600000, '0.2 to 3600')
  FuncGateway__Registry__StartupWaitSeconds: seconds('registryStartupWaitSeconds', registryStartupWaitSeconds, 0, 120000, '0 to 120')
  FuncGateway__Registry__ReadTimeoutSeconds: seconds('registryReadTimeoutSeconds', registryReadTimeoutSeconds, 1000, 300000, '1 to 300')
  FuncGateway__Registry__Groups: routeGroups
  FuncGateway__Forwarding__DefaultTimeoutSeconds: seconds('forwardingDefaultTimeoutSeconds', forwardingDefaultTimeoutSeconds, 1, 230000, '0.001 to 230')
  FuncGateway__Forwarding__ConnectTimeoutSeconds: seconds('forwardingConnectTimeoutSeconds', forwardingConnectTimeoutSeconds, 100, 300000, '0.1 to 300')
  FuncGateway__Forwarding__PooledConnectionLifetimeSeconds: string(forwardingPooledConnectionLifetimeSeconds)
  FuncGateway__Forwarding__PooledConnectionIdleTimeoutSeconds: string(forwardingPooledConnectionIdleTimeoutSeconds)
  FuncGateway__Forwarding__MaxRequestBodySizeBytes: string(forwardingMaxRequestBodySizeBytes)
  FuncGateway__Forwarding__MaxBufferedResponseBytes: string(forwardingMaxBufferedResponseBytes)
  FuncGateway__Forwarding__MaxComposedResponseBytes: string(forwardingMaxComposedResponseBytes)
  // Secure by default: the gateway answers to its own host name unless told otherwise.
  FuncGateway__Forwarding__PublicHosts: empty(forwardingPublicHosts) ? functionApp.outputs.defaultHostName : forwardingPublicHosts
  FuncGateway__Forwarding__AllowedUpstreams: forwardingAllowedUpstreams
  FuncGateway__Forwarding__MinResponseDataRateBytesPerSecond: string(forwardingMinResponseDataRateBytesPerSecond)
  FuncGateway__Forwarding__MinResponseDataRateGraceSeconds: string(forwardingMinResponseDataRateGraceSeconds)
  FuncGateway__ForwardedHeaders__TrustedProxies: trustedProxies
  FuncGateway__Admin__Key: adminKeySetting
  FuncGateway__Telemetry__SamplingRatio: telemetrySamplingRatio
  FuncGateway__Telemetry__AccessLog: telemetryAccessLog
  FuncGateway__Telemetry__AcceptClientRequestId: string(telemetryAcceptClientRequestId)
  FuncGateway__Telemetry__TrustClientTraceContext: string(telemetryTrustClientTraceContext)
  FuncGateway__Telemetry__ForwardBaggage: string(telemetryForwardBaggage)
  // [#3 identity] settings go below this line.

  // [#5 rate limits] settings go below this line.
  FuncGateway__RateLimits__KeyHashSecret: rateLimitKeyHashSecretSetting

  // [#6 resilience] settings go below this line.

  // [#14 caching]
  FuncGateway__Cache__MaxEntryBytes: string(cacheMaxEntryBytes)
  FuncGateway__Cache__MaxTotalBytes: string(cacheMaxTotalBytes)
  FuncGateway__Cache__RedisConnectionString: cacheRedisConnectionStringSetting

  // [#16 discovery]
  FuncGateway__Discovery__Dns__Servers: discoveryDnsServers
  FuncGateway__Discovery__Dns__MinTtlSeconds: string(discoveryDnsMinTtlSeconds)
  FuncGateway__Discovery__Dns__MaxTtlSeconds: string(discoveryDnsMaxTtlSeconds)
  FuncGateway__Discovery__Registration__RefreshSeconds: string(discoveryRegistrationRefreshSeconds)
}

// After the role assignments, so that the host starts with storage it can reach and references it can resolve. (After
// the app too: the settings read its default host name.)
module settings 'modules/appSettings.bicep' = {
  name: 'appSettings'
  params: {
    appName: names.functionApp
    settings: appSettings
    gatewaySettings: !empty(badOtelSettings)
      ? fail('otelSettings takes the OpenTelemetry SDK\'s other OTEL_ settings only: ${join(badOtelSettings, ', ')}. The collector\'s endpoint, protocol and headers and the service name have parameters of their own (otlpEndpoint, otlpProtocol, otlpHeaders: stored in Key Vault, otelServiceName); FuncGateway settings go in gatewaySettings')
      : !empty(badSettingNames)
          ? fail('App setting names may hold only letters, digits and _ (Azure refuses others, and a shell cannot export them); rename the policy, tier, key or user in: ${join(badSettingNames, ', ')}')
          : !empty(secretsInPlainSettings)
              ? fail('These settings hold secrets, which never go into the configuration objects (their values would be kept in the deployment\'s history): ${join(secretsInPlainSettings, ', ')}. List each name without FuncGateway__ in gatewaySecretNames and give its value in gatewaySecrets (stored only in Key Vault); the admin key, the counter key secret and the Redis connection string have parameters of their own.')
              : !empty(shadowedSettings)
                  ? fail('These settings have parameters of their own, whose value the deployment writes instead of the one given here: ${join(shadowedSettings, ', ')}. Set each through its parameter (infra/README.md).')
                  : configuredSettings
  }
  dependsOn: [
    roleAssignments
  ]
}

// ---------------------------------------------------------------------------------------------------------------------
// Outputs (no secrets)
// ---------------------------------------------------------------------------------------------------------------------

@description('The gateway\'s public URL.')
output gatewayUrl string = 'https://${functionApp.outputs.defaultHostName}'

@description('The Function App name, for publishing the code.')
output functionAppName string = functionApp.outputs.name

@description('The storage account holding the route registry.')
output storageAccountName string = empty(registryStorageAccountName) ? storage.outputs.name : registryStorageAccountName

@description('The table endpoint: FuncGateway:Storage:TableServiceUri, and fgw --table-service-uri.')
output tableEndpoint string = registryTableEndpoint

@description('Object (principal) id of the Function App\'s system-assigned identity.')
output principalId string = functionApp.outputs.principalId

@description('The Key Vault name; empty without one.')
output keyVaultName string = deployKeyVault ? keyVault!.outputs.name : ''
