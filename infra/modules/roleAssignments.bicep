// Data-plane roles for the Function App's system-assigned identity. Each one is needed by something the app does;
// none is broader than that (management roles such as Owner would not grant data access anyway).

@description('Object (principal) id of the Function App\'s system-assigned identity.')
param principalId string

@description('The storage account holding host storage, the deployment container and the registry tables.')
param storageAccountName string

@description('Another storage account (same resource group) whose registry tables the app reads; empty when the registry is in storageAccountName.')
param registryStorageAccountName string = ''

@description('The Application Insights component the app sends telemetry to with its identity.')
param appInsightsName string

@description('The Key Vault holding the gateway\'s secrets; empty when the deployment has none.')
param keyVaultName string

// Built-in role definition ids (the same in every tenant).
var roleIds = {
  // Host storage (AzureWebJobsStorage): keys, leases and host coordination in blobs; reading the deployment package.
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // The gateway's route registry (read, and create the tables when missing); the host's diagnostic events.
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  // Sending telemetry to Application Insights with Entra ID authentication (local auth is off).
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  // Resolving the Key Vault references in app settings.
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource registryStorage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = if (!empty(registryStorageAccountName)) {
  name: registryStorageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = if (!empty(keyVaultName)) {
  name: keyVaultName
}

resource storageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roleIds.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'FuncGateway: Functions host storage and the Flex Consumption deployment package.'
  }
}

resource storageTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roleIds.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'FuncGateway: route registry tables and Functions host diagnostic events.'
  }
}

resource registryTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(registryStorageAccountName)) {
  name: guid(registryStorage.id, principalId, roleIds.storageTableDataContributor)
  scope: registryStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'FuncGateway: the shared route registry of another gateway\'s account (route groups).'
  }
}

resource monitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'FuncGateway: telemetry to Application Insights with Entra ID authentication.'
  }
}

resource keyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(keyVaultName)) {
  name: guid(vault.id, principalId, roleIds.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'FuncGateway: Key Vault references in app settings.'
  }
}
