using FuncGateway.Storage;
using FuncGateway.Model;
using FuncGateway.Authentication.ApiKeys;
using FuncGateway.Authentication.Basic;
using FuncGateway.Authentication.Jwt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Authentication;

/// <summary>Registers identity at the edge: policies from configuration, the route compiler, the step, the signer and the identity transform.</summary>
internal static class AuthenticationServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayIdentity(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayAuthSettings>()
            .Configure(settings => AuthConfigurationReader.Load(settings, configuration.GetSection(AuthPolicies.SectionName)))
            .ValidateOnStart();
        services.AddSingleton(new OwnedConfigurationSection(AuthPolicies.SectionName));
        services.AddSingleton<IValidateOptions<GatewayAuthSettings>, GatewayAuthSettingsValidator>();
        services.AddSingleton(static sp => sp.GetRequiredService<IOptions<GatewayAuthSettings>>().Value);
        services.AddSingleton<IApiKeyStore>(static sp => CreateApiKeyStore(sp));
        services.AddSingleton(static sp => new ApiKeyCache(
            sp.GetRequiredService<IApiKeyStore>(),
            sp.GetRequiredService<GatewayAuthSettings>().ApiKeys,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ApiKeyCache>>()));
        services.AddSingleton<AuthPolicyFactory>();
        services.AddSingleton(static sp => new AuthPolicyRegistry(sp.GetRequiredService<AuthPolicyFactory>().Policies));
        services.AddSingleton<IRouteFeatureCompiler, RouteAuthCompiler>();
        services.AddSingleton<IGatewayStep, AuthenticationStep>();
        services.AddSingleton(static sp => new ContextSigner(sp.GetRequiredService<GatewayAuthSettings>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IRouteTransformProvider, UpstreamIdentityTransformProvider>();
        return services;
    }

    private static IApiKeyStore CreateApiKeyStore(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        return services.GetRequiredService<GatewayTableService>().TryGetClient(out var client, out _)
            ? new TableApiKeyStore(client.GetTableClient(ApiKeyFormat.TableName(options.Storage.TablePrefix)))
            : new UnavailableApiKeyStore();
    }
}

/// <summary>Builds every configured policy once, with the one HTTP client used for discovery and JWKS documents.</summary>
internal sealed class AuthPolicyFactory : IDisposable
{
    private readonly HttpClient _metadataClient;
    private readonly List<IDisposable> _owned = [];

    public AuthPolicyFactory(GatewayAuthSettings settings, IServiceProvider services, TimeProvider time, ILoggerFactory loggers)
    {
        _metadataClient = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10),
        })
        {
            // A key set is a few KiB; a huge document is refused rather than buffered.
            MaxResponseContentBufferSize = 1024 * 1024,
            Timeout = TimeSpan.FromSeconds(60),
        };

        var policies = new List<IAuthPolicy>(settings.Policies.Count);
        foreach (var definition in settings.Policies.Values)
        {
            switch (definition)
            {
                case JwtPolicySettings jwt:
                    var logger = loggers.CreateLogger<JwtPolicy>();
                    IKeySetRetriever? remote = jwt.MetadataAddress is not null || jwt.JwksUri is not null ? new HttpKeySetRetriever(jwt, _metadataClient) : null;
                    policies.Add(new JwtPolicy(jwt, new SigningKeySource(jwt, remote, time, logger), time, logger));
                    break;
                case ApiKeyPolicySettings apiKey:
                    policies.Add(new ApiKeyPolicy(apiKey, services.GetRequiredService<ApiKeyCache>(), time));
                    break;
                case BasicPolicySettings basic:
                    var policy = new BasicPolicy(basic, time, loggers.CreateLogger<BasicPolicy>());
                    _owned.Add(policy);
                    policies.Add(policy);
                    break;
            }
        }

        Policies = policies;
    }

    public IReadOnlyList<IAuthPolicy> Policies { get; }

    public void Dispose()
    {
        _metadataClient.Dispose();
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }
}
