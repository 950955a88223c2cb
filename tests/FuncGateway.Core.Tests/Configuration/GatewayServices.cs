using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Core.Tests.Configuration;

/// <summary>The gateway's container, as <c>AddFuncGateway</c> builds it, over in-memory settings and a development storage connection string.</summary>
internal static class GatewayServices
{
    public static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        settings["FuncGateway:Storage:ConnectionString"] = "UseDevelopmentStorage=true";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddFuncGateway(configuration);
        return services.BuildServiceProvider();
    }
}
