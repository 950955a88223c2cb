using FuncGateway.Model;
using FuncGateway.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FuncGateway.Core.Tests.Configuration;

/// <summary>
/// How the storage settings bind, from app setting names as Azure passes them to the app: a table endpoint alone
/// (what infra/main.bicep deploys) connects with the managed identity; a connection string wins over it. Nothing
/// here contacts Azure: building a client does no I/O.
/// </summary>
public sealed class StorageIdentityConfigurationTests
{
    private const string TableEndpoint = "https://fgwsample.table.core.windows.net/";

    [Fact]
    public void A_table_endpoint_without_a_connection_string_connects_to_it_with_the_managed_identity()
    {
        // The app settings of the Azure deployment. The Functions host's own storage is identity-based as well, so
        // there is no AzureWebJobsStorage connection string for the gateway to fall back to.
        using var app = new GatewayApp(new()
        {
            ["AzureWebJobsStorage__accountName"] = "fgwsample",
            ["AzureWebJobsStorage__credential"] = "managedidentity",
            ["FuncGateway__Storage__TableServiceUri"] = TableEndpoint,
            ["FuncGateway__Storage__TablePrefix"] = "Gateway",
        });

        Assert.Null(app.Options.Storage.ConnectionString);
        Assert.Equal(TableEndpoint, app.Options.Storage.TableServiceUri);
        Assert.Null(app.FallbackConnectionString);

        var client = app.CreateServiceClient();
        Assert.Equal(new Uri(TableEndpoint), client.Uri);
        Assert.Equal("fgwsample", client.AccountName);

        // The host registers the Table Storage registry, not the fail-closed stand-in for missing settings.
        Assert.IsType<TableRegistryStore>(app.RegistryStore);
    }

    [Fact]
    public void A_user_assigned_identity_is_picked_by_its_client_id()
    {
        using var app = new GatewayApp(new()
        {
            ["FuncGateway__Storage__TableServiceUri"] = TableEndpoint,
            ["FuncGateway__Storage__ManagedIdentityClientId"] = "00000000-0000-0000-0000-000000000001",
        });

        Assert.Equal("00000000-0000-0000-0000-000000000001", app.Options.Storage.ManagedIdentityClientId);
        Assert.Equal(new Uri(TableEndpoint), app.CreateServiceClient().Uri);
        Assert.IsType<TableRegistryStore>(app.RegistryStore);
    }

    [Fact]
    public void A_connection_string_wins_over_a_table_endpoint()
    {
        using var app = new GatewayApp(new()
        {
            ["FuncGateway__Storage__ConnectionString"] = "UseDevelopmentStorage=true",
            ["FuncGateway__Storage__TableServiceUri"] = TableEndpoint,
        });

        var client = app.CreateServiceClient();

        Assert.Equal("devstoreaccount1", client.AccountName);
        Assert.Equal(new Uri("http://127.0.0.1:10002/devstoreaccount1"), client.Uri);
    }

    [Fact]
    public void A_table_endpoint_wins_over_the_functions_hosts_connection_string()
    {
        using var app = new GatewayApp(new()
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            ["FuncGateway__Storage__TableServiceUri"] = TableEndpoint,
        });

        Assert.Equal(new Uri(TableEndpoint), app.CreateServiceClient().Uri);
    }

    [Fact]
    public void A_relative_table_endpoint_fails_closed_naming_the_setting()
    {
        using var app = new GatewayApp(new()
        {
            ["FuncGateway__Storage__TableServiceUri"] = "fgwsample.table.core.windows.net",
        });

        var error = Assert.Throws<RegistryStoreException>(app.CreateServiceClient);
        Assert.Contains("FuncGateway:Storage:TableServiceUri", error.Message, StringComparison.Ordinal);
        Assert.IsNotType<TableRegistryStore>(app.RegistryStore);
    }

    /// <summary>The gateway's service registrations over configuration given as app setting names.</summary>
    private sealed class GatewayApp : IDisposable
    {
        private readonly IConfiguration _configuration;
        private readonly ServiceProvider _services;

        public GatewayApp(Dictionary<string, string?> appSettings)
        {
            // App settings reach .NET configuration as environment variables, whose '__' means ':'.
            _configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(appSettings.Select(s => KeyValuePair.Create(s.Key.Replace("__", ":", StringComparison.Ordinal), s.Value)))
                .Build();
            var services = new ServiceCollection();
            services.AddSingleton(_configuration);
            services.AddFuncGateway(_configuration);
            _services = services.BuildServiceProvider();
        }

        public GatewayOptions Options => _services.GetRequiredService<IOptions<GatewayOptions>>().Value;

        /// <summary>What the gateway falls back to without its own storage settings: the Functions host's connection string.</summary>
        public string? FallbackConnectionString => _configuration["AzureWebJobsStorage"];

        public IRegistryStore RegistryStore => _services.GetRequiredService<IRegistryStore>();

        public Azure.Data.Tables.TableServiceClient CreateServiceClient() =>
            TableRegistryStore.CreateServiceClient(Options.Storage, FallbackConnectionString, TimeSpan.FromSeconds(15));

        public void Dispose() => _services.Dispose();
    }
}
