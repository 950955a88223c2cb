using FuncGateway.Configuration;
using FuncGateway.Cors;
using FuncGateway.LoadBalancing;
using FuncGateway.Model;
using FuncGateway.Core.Tests.Configuration;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Cors;

/// <summary>
/// CORS policies (<c>FuncGateway:Cors:Policies:&lt;name&gt;</c>): unsafe or malformed ones stop start-up with a message
/// naming the key; valid ones admit exactly the origins they list, as ASP.NET Core's CorsService evaluates them.
/// </summary>
public sealed class CorsPolicyTests
{
    private static readonly CorsService Evaluator = new(Options.Create(new CorsOptions()), NullLoggerFactory.Instance);

    [Theory]
    [InlineData("*", true, "", "'*' together with AllowCredentials=true")]
    [InlineData("*,https://a.example.com", false, "", "'*' admits every origin and cannot be combined")]
    [InlineData("", false, "", "AllowedOrigins is required")]
    [InlineData("NULL", false, "", "write it exactly 'null'")]
    [InlineData("https://app.example.com/", false, "", "has a path")]
    [InlineData("https://app.example.com/spa", false, "", "has a path")]
    [InlineData("https://app.example.com?x=1", false, "", "has a query")]
    [InlineData("https://user@app.example.com", false, "", "has credentials")]
    [InlineData("app.example.com", false, "", "is not an origin")]
    [InlineData("ftp://app.example.com", false, "", "is not an http:// or https:// origin")]
    [InlineData("https://a.*.example.com", false, "", "wildcard in the wrong place")]
    [InlineData("https://*example.com", false, "", "wildcard in the wrong place")]
    [InlineData("https://example.*", false, "", "wildcard in the wrong place")]
    [InlineData("*.example.com", false, "", "is not an origin")]
    [InlineData("https://*.com", false, "", "every host under a top-level domain")]
    [InlineData("https://app.example.com,https://APP.example.com", false, "", "listed twice")]
    [InlineData("https://a.example.com", true, "*", "'*' with AllowCredentials=true is not a wildcard to browsers")]
    public void An_unsafe_or_malformed_policy_is_refused_with_a_reason(string origins, bool credentials, string exposed, string reason)
    {
        var errors = new List<string>();

        var policy = CorsPolicyCompiler.Compile("web", new CorsPolicySettings { AllowedOrigins = origins, AllowCredentials = credentials, ExposedHeaders = exposed }, errors);

        Assert.Null(policy);
        var error = Assert.Single(errors);
        Assert.StartsWith("FuncGateway:Cors:Policies:web:", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AllowedMethods", "GET,*", "'*' means any method and cannot be combined")]
    [InlineData("AllowedMethods", "GET PUT", "is not a valid method")]
    [InlineData("AllowedHeaders", "X-Ok,Bad Header", "is not a valid header name")]
    [InlineData("ExposedHeaders", "X-Ok:1", "is not a valid header name")]
    public void Methods_and_header_names_must_be_tokens(string key, string value, string reason)
    {
        var settings = new CorsPolicySettings { AllowedOrigins = "https://a.example.com" };
        typeof(CorsPolicySettings).GetProperty(key)!.SetValue(settings, value);
        var errors = new List<string>();

        Assert.Null(CorsPolicyCompiler.Compile("web", settings, errors));
        var error = Assert.Single(errors);
        Assert.StartsWith("FuncGateway:Cors:Policies:web:" + key + ":", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_up_fails_listing_every_problem_under_its_full_key_including_unknown_keys_and_bad_names()
    {
        using var services = Build(new()
        {
            ["FuncGateway:Cors:Policies:web:AllowedOrigins"] = "*",
            ["FuncGateway:Cors:Policies:web:AllowCredentials"] = "true",
            ["FuncGateway:Cors:Policies:web:MaxAgeSeconds"] = "100000",
            ["FuncGateway:Cors:Policies:admin:AllowedOrigin"] = "https://admin.example.com",
            ["FuncGateway:Cors:Policies:my-app:AllowedOrigins"] = "https://my.example.com",
        });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<CorsSettings>>().Value);

        Assert.Contains("FuncGateway:Cors:Policies:web:AllowedOrigins: '*' together with AllowCredentials=true", error.Message, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Cors:Policies:web:MaxAgeSeconds must be between 0 and 86400", error.Message, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Cors:Policies:admin:AllowedOrigin is not a known setting; did you mean AllowedOrigins?", error.Message, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Cors:Policies:admin:AllowedOrigins is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("'my-app' is not a valid CORS policy name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_valid_policy_starts_and_is_found_by_name_in_any_case()
    {
        using var services = Build(new()
        {
            ["FuncGateway:Cors:Policies:web:AllowedOrigins"] = "https://App.Example.com:443, https://*.example.org, http://localhost:3000",
            ["FuncGateway:Cors:Policies:web:AllowedMethods"] = "GET,PUT",
            ["FuncGateway:Cors:Policies:web:AllowCredentials"] = "true",
        });

        var policies = services.GetRequiredService<CorsPolicies>();

        Assert.True(policies.TryGet("WEB", out var policy));
        Assert.Equal(["https://app.example.com", "https://*.example.org", "http://localhost:3000"], policy.Policy.Origins);
        Assert.True(policy.Policy.SupportsCredentials);
        Assert.Equal(["web"], policies.Names);
    }

    [Theory]
    [InlineData("https://app.example.com", true)]
    [InlineData("https://api.example.org", true)]
    [InlineData("https://a.b.example.org", true)]
    [InlineData("https://example.org", false)]                  // the pattern is for subdomains, not the apex
    [InlineData("http://api.example.org", false)]               // another scheme is another origin
    [InlineData("https://api.example.org:8443", false)]         // and so is another port
    [InlineData("https://api.example.org.evil.com", false)]
    [InlineData("https://evilexample.org", false)]
    [InlineData("https://app.example.com.evil.com", false)]
    [InlineData("null", false)]
    [InlineData("https://evil.com", false)]
    public void Exact_origins_and_subdomain_patterns_admit_exactly_what_they_say(string origin, bool admitted)
    {
        var policy = Compile(new CorsPolicySettings { AllowedOrigins = "https://app.example.com,https://*.example.org", AllowCredentials = true });

        var (result, allowOrigin) = Evaluate(policy, origin);

        Assert.Equal(admitted, policy.Admits(result, origin));
        if (admitted)
        {
            Assert.Equal(origin, allowOrigin);
        }
    }

    [Fact]
    public void The_null_origin_is_admitted_only_when_listed_literally_and_never_by_a_star()
    {
        var literal = Compile(new CorsPolicySettings { AllowedOrigins = "null" });
        var star = Compile(new CorsPolicySettings { AllowedOrigins = "*" });

        Assert.True(literal.Admits(Evaluate(literal, "null").Result, "null"));
        Assert.False(star.Admits(Evaluate(star, "null").Result, "null"));

        // Any real origin gets the literal '*' from a star policy: never a reflected origin.
        var (result, allowOrigin) = Evaluate(star, "https://anyone.example");
        Assert.True(star.Admits(result, "https://anyone.example"));
        Assert.Equal("*", allowOrigin);
    }

    [Fact]
    public void A_preflight_answer_lists_exactly_the_policys_methods_headers_and_max_age()
    {
        var policy = Compile(new CorsPolicySettings
        {
            AllowedOrigins = "https://app.example.com",
            AllowedMethods = "GET,PUT,DELETE",
            AllowedHeaders = "Content-Type,X-Request-Id",
            ExposedHeaders = "X-Total-Count",
            AllowCredentials = true,
            MaxAgeSeconds = 600,
        });
        var context = new DefaultHttpContext();
        context.Request.Method = "OPTIONS";
        context.Request.Headers.Origin = "https://app.example.com";
        context.Request.Headers.AccessControlRequestMethod = "PUT";
        context.Request.Headers.AccessControlRequestHeaders = "content-type,x-unlisted";

        var result = Evaluator.EvaluatePolicy(context, policy.Policy);
        Evaluator.ApplyResult(result, context.Response);

        var headers = context.Response.Headers;
        Assert.Equal("https://app.example.com", headers.AccessControlAllowOrigin);
        Assert.Equal("true", headers.AccessControlAllowCredentials);
        Assert.Equal("GET,PUT,DELETE", headers.AccessControlAllowMethods);
        Assert.Equal("Content-Type,X-Request-Id", headers.AccessControlAllowHeaders);
        Assert.Equal("600", headers.AccessControlMaxAge);
    }

    [Fact]
    public void A_route_naming_an_unknown_policy_is_rejected_and_told_the_configured_ones()
    {
        var policies = new CorsPolicies(Options.Create(Settings(("web", new CorsPolicySettings { AllowedOrigins = "https://a.example.com" }))));
        var snapshot = new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100),
                [new CorsRouteCompiler(policies)], poolCompilers: TestCompilers.Pools(new InstanceStateRegistry()), transformProviders: [new CorsTransformProvider()])
            .Build(new RegistryContent([], [
                Route("typo", "/typo", "http://10.0.0.4", ("Cors", "wbe")),
                Route("fine", "/fine", "http://10.0.0.4", ("Cors", "WEB")),
                Route("plain", "/plain", "http://10.0.0.4")]), 1, DateTimeOffset.UnixEpoch);

        Assert.Equal(["fine", "plain"], snapshot.Routes.Select(r => r.Definition.Id).Order(StringComparer.Ordinal));
        Assert.Equal("Cors names unknown policy 'wbe'. Configured policies: web.", Assert.Single(Assert.Single(snapshot.Rejected, r => r.RowKey == "typo").Errors));
        var fine = snapshot.Routes.Single(r => r.Definition.Id == "fine");
        Assert.Equal("web", fine.GetFeature<RouteCors>()!.Policy.Name);
        Assert.Contains(CorsResponseTransform.Instance, fine.Transforms.Response);
        Assert.DoesNotContain(CorsResponseTransform.Instance, snapshot.Routes.Single(r => r.Definition.Id == "plain").Transforms.Response);
    }

    [Fact]
    public void The_property_round_trips_through_the_registry_format()
    {
        var errors = new List<string>();
        var route = RegistryFormat.ParseRoute(Route("a", "/a", "http://10.0.0.4", ("Cors", " web ")), errors);

        Assert.Empty(errors);
        Assert.Equal("web", route!.Get(CorsProperties.Cors));
        Assert.Equal("web", RegistryFormat.ToRow(route).Properties["Cors"]);
        Assert.False(RegistryFormat.ToRow(route.With(CorsProperties.Cors, null)).Properties.ContainsKey("Cors"));
    }

    private static GatewayCorsPolicy Compile(CorsPolicySettings settings)
    {
        var errors = new List<string>();
        var policy = CorsPolicyCompiler.Compile("web", settings, errors);
        Assert.True(policy is not null, string.Join("\n", errors));
        return policy;
    }

    private static (CorsResult Result, string? AllowOrigin) Evaluate(GatewayCorsPolicy policy, string origin)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Headers.Origin = origin;
        var result = Evaluator.EvaluatePolicy(context, policy.Policy);
        Evaluator.ApplyResult(result, context.Response);
        return (result, context.Response.Headers.AccessControlAllowOrigin.ToString() is { Length: > 0 } value ? value : null);
    }

    private static CorsSettings Settings(params (string Name, CorsPolicySettings Policy)[] policies)
    {
        var settings = new CorsSettings();
        foreach (var (name, policy) in policies)
        {
            settings.Policies[name] = policy;
        }

        return settings;
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings) => GatewayServices.Build(settings);
}
