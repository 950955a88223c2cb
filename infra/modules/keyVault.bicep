// Optional Key Vault for the gateway's secrets, read through App Service Key Vault references by the app's identity
// (Azure RBAC, role "Key Vault Secrets User", assigned in roleAssignments.bicep). Secret values come in as secure
// parameters and never leave as outputs: only the versionless secret URIs do, which are not secret.

@description('Key Vault name: 3-24 letters, digits and hyphens, unique in Azure.')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('The admin key (FuncGateway:Admin:Key). Empty: no secret is written and the admin surface stays off.')
@secure()
param adminKey string

@description('The rate-limit counter key secret (FuncGateway:RateLimits:KeyHashSecret). Empty: no new version is written; an earlier one stays in use.')
@secure()
param rateLimitKeyHashSecret string

@description('The response cache\'s Redis connection string; empty: none written.')
@secure()
param cacheRedisConnectionString string = ''

@description('The OpenTelemetry collector\'s headers (OTEL_EXPORTER_OTLP_HEADERS); empty: none written.')
@secure()
param otlpHeaders string = ''

@description('Names of further secrets (the gateway\'s signing keys, HMAC keys, Basic password hashes), as Key Vault secret names.')
param secretNames array

@description('Their values, by the same names. A missing or empty value writes no new version: an earlier one stays in use.')
@secure()
param secretValues object

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    publicNetworkAccess: 'Enabled'
  }
}

// Secret names allow letters, digits and hyphens: '--' stands for the configuration key separator.
var adminKeySecretName = 'FuncGateway--Admin--Key'

resource adminKeySecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(adminKey)) {
  parent: vault
  name: adminKeySecretName
  properties: {
    value: adminKey
    contentType: 'text/plain'
  }
}

var cacheRedisConnectionStringName = 'FuncGateway--Cache--RedisConnectionString'

resource cacheRedisConnectionStringValue 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(cacheRedisConnectionString)) {
  parent: vault
  name: cacheRedisConnectionStringName
  properties: {
    value: cacheRedisConnectionString
    contentType: 'text/plain'
  }
}

var rateLimitKeyHashSecretName = 'FuncGateway--RateLimits--KeyHashSecret'

resource rateLimitKeyHashSecretValue 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(rateLimitKeyHashSecret)) {
  parent: vault
  name: rateLimitKeyHashSecretName
  properties: {
    value: rateLimitKeyHashSecret
    contentType: 'text/plain'
  }
}

// The app setting's name with '-' for '_' (Key Vault secret names allow no '_').
resource otlpHeadersValue 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(otlpHeaders)) {
  parent: vault
  name: 'OTEL-EXPORTER-OTLP-HEADERS'
  properties: {
    value: otlpHeaders
    contentType: 'text/plain'
  }
}

resource gatewaySecrets 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = [
  for secretName in secretNames: if (!empty(secretValues[?secretName] ?? '')) {
    parent: vault
    name: secretName
    properties: {
      value: secretValues[secretName]
      contentType: 'text/plain'
    }
  }
]

@description('The Key Vault name.')
output name string = vault.name

@description('The vault\'s URI; main.bicep builds the same one from the name for its Key Vault references.')
output uri string = vault.properties.vaultUri


