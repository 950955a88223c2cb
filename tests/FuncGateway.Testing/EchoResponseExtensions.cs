using System.Net.Http.Json;
using FuncGateway.Samples.Echo;

namespace FuncGateway.Testing;

/// <summary>Reads an <see cref="EchoResponse"/> from a response that went (through the gateway) to an echo upstream.</summary>
public static class EchoResponseExtensions
{
    /// <summary>Deserialises the body; throws when the response is not an echo (e.g. a gateway problem response).</summary>
    public static async Task<EchoResponse> ReadEchoAsync(this HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        var echo = await response.Content.ReadFromJsonAsync<EchoResponse>(cancellationToken);
        return echo ?? throw new InvalidOperationException($"The response ({(int)response.StatusCode}) had no echo body.");
    }
}
