using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Server.Tests.Infrastructure;

internal static class UpstreamExtensions
{
    /// <summary>Answers every request with <paramref name="handler"/> (WebApplication.Run(string) would otherwise win overload resolution).</summary>
    public static void Respond(this WebApplication app, RequestDelegate handler) => ((IApplicationBuilder)app).Run(handler);
}
