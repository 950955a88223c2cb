using FuncGateway.Functions;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
GatewayFunctionsApp.ConfigureServices(builder);
builder.Build().Run();
