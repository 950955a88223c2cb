// A small sample environment: scales to zero, at most 40 instances, a Key Vault for the admin key.
//
//   export FUNCGATEWAY_ADMIN_KEY="$(openssl rand -base64 32)"   # optional; unset: admin surface off
//   az deployment group create -g <rg> --template-file infra/main.bicep --parameters infra/main.bicepparam
//
// No secret is written in this file: the admin key comes from the environment of whoever deploys.
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

param registryRefreshIntervalSeconds = '5'
param forwardingDefaultTimeoutSeconds = 100
