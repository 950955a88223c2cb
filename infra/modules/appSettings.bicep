// Writes the Function App's app settings: the whole list, replacing whatever was there. A separate step from
// functionApp.bicep so that it runs after the role assignments: the host then starts with storage it can reach and
// Key Vault references it can resolve (an unresolved reference would reach the app as the literal reference text).

@description('The Function App.')
param appName string

@description('The host\'s and the gateway\'s fixed app settings, name to value. Built in main.bicep (the one list).')
param settings object

@description('The settings made from the gateway\'s configuration sections (policies, limits, health, Key Vault references to secrets). The fixed settings win over them.')
param gatewaySettings object

resource site 'Microsoft.Web/sites@2024-11-01' existing = {
  name: appName
}

resource appSettings 'Microsoft.Web/sites/config@2024-11-01' = {
  parent: site
  name: 'appsettings'
  properties: union(gatewaySettings, settings)
}
