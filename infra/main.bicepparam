// A small sample environment: scales to zero, at most 40 instances, a Key Vault for the admin key and the rate-limit
// counter key secret.
//
//   export FUNCGATEWAY_ADMIN_KEY="$(openssl rand -base64 32)"   # optional; unset: admin surface off
//   export FUNCGATEWAY_RATE_LIMIT_KEY_HASH_SECRET="$(openssl rand -base64 32)"   # first deployment; unset later: kept
//   az deployment group create -g <rg> --template-file infra/main.bicep --parameters infra/main.bicepparam
//
// No secret is written in this file: the secrets come from the environment of whoever deploys.
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

param registryRefreshIntervalSeconds = '5'
param forwardingDefaultTimeoutSeconds = 100
