using System.Net.Http.Json;
using System.Text.Json;

namespace FuncGateway.Server.Tests.Infrastructure;

/// <summary>Reads what the echo upstream says it received.</summary>
internal sealed record Echo(JsonElement Json)
{
    public string Instance => Json.GetProperty("instance").GetString()!;

    public string Method => Json.GetProperty("method").GetString()!;

    public string Path => Json.GetProperty("path").GetString()!;

    public string Query => Json.GetProperty("query").GetString()!;

    public string Body => Json.GetProperty("body").GetString()!;

    public long BodyLength => Json.GetProperty("bodyLength").GetInt64();

    public string BodySha256 => Json.GetProperty("bodySha256").GetString()!;

    /// <summary>All values of a request header as the upstream saw it (empty when absent).</summary>
    public string[] Header(string name) =>
        Json.GetProperty("headers").TryGetProperty(name.ToLowerInvariant(), out var values)
            ? values.EnumerateArray().Select(v => v.GetString()!).ToArray()
            : [];

    public static async Task<Echo> ReadAsync(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"Expected success, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return new Echo(await response.Content.ReadFromJsonAsync<JsonElement>());
    }
}
