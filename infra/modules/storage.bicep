// The one storage account of a FuncGateway deployment: the Functions host's own storage (AzureWebJobsStorage), the
// Flex Consumption deployment package container, and the gateway's route registry tables. Every client reaches it
// with Microsoft Entra ID (the app's managed identity, an operator's login); account keys are off.

@description('Storage account name: 3-24 lowercase letters and digits, unique in Azure.')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Replication. Standard_ZRS keeps the registry readable through a zone outage where the region has zones.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
])
param skuName string

@description('Blob container Flex Consumption deploys the app package to.')
param deploymentContainerName string

@description('Registry tables to create ({TablePrefix}Routes, {TablePrefix}Upstreams). The gateway also creates them when they are missing.')
param tableNames string[]

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    // Identity only: Flex Consumption with identity-based host storage and deployment storage needs no account key.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2025-01-01' = {
  parent: account
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

@description('The storage account name.')
output name string = account.name

@description('The blob container URL Flex Consumption deploys the app package to.')
output deploymentContainerUrl string = '${account.properties.primaryEndpoints.blob}${deploymentContainer.name}'

@description('The table service endpoint, https://<account>.table.core.windows.net/.')
output tableEndpoint string = account.properties.primaryEndpoints.table
