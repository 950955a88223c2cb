// The gateway's Function App on the Flex Consumption plan: Linux, .NET 10 isolated worker, system-assigned identity,
// HTTPS only, TLS 1.2, no FTP and no basic-auth publishing. App settings are applied afterwards by appSettings.bicep,
// once the identity holds its roles (see main.bicep).

@description('Flex Consumption plan name (one app per plan).')
param planName string

@description('Function App name; also the host name <name>.azurewebsites.net.')
@minLength(2)
@maxLength(60)
param appName string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Blob container URL Flex Consumption deploys the app package to; read with the app\'s identity.')
param deploymentContainerUrl string

@description('Instances kept running for the HTTP functions (billed while idle); 0 scales to zero.')
@minValue(0)
param alwaysReadyInstanceCount int

@description('Most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory of one instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Concurrent HTTP requests per instance before the platform scales out; 0: the platform\'s default for the instance size.')
@minValue(0)
@maxValue(1000)
param httpPerInstanceConcurrency int = 0

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    clientAffinityEnabled: false
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      // The gateway's CORS policies decide (docs/cors.md): with origins here the host would answer preflights and add
      // its own Access-Control-* headers around the gateway's. Written on every deployment, so one added in the portal
      // does not outlive the next.
      cors: {
        allowedOrigins: []
        supportCredentials: false
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        // 'http' is the group of every HTTP-triggered function: here the one catch-all gateway function.
        alwaysReady: [
          {
            name: 'http'
            instanceCount: alwaysReadyInstanceCount
          }
        ]
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        // Left to the platform unless set: its default depends on the instance size.
        triggers: httpPerInstanceConcurrency > 0
          ? {
              http: {
                perInstanceConcurrency: httpPerInstanceConcurrency
              }
            }
          : null
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

// Publishing goes through Entra ID (az CLI, Core Tools, One Deploy); user/password publishing credentials are off.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

@description('The Function App name.')
output name string = site.name

@description('The default host name, <name>.azurewebsites.net.')
output defaultHostName string = site.properties.defaultHostName

@description('Object (principal) id of the app\'s system-assigned identity.')
output principalId string = site.identity.principalId
