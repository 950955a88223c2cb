using FuncGateway.Server;

await GatewayServer.Build(args).RunAsync();
