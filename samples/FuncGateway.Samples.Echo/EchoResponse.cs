namespace FuncGateway.Samples.Echo;

/// <summary>What <see cref="EchoHandler"/> saw of one request, serialised as camelCase JSON.</summary>
/// <param name="Instance">The name of the echo instance that answered (tells load-balanced instances apart).</param>
/// <param name="Method">The request method.</param>
/// <param name="Path">The path as received, still percent-encoded, without the query.</param>
/// <param name="Query">The query as received, including the leading <c>?</c>; empty when there is none.</param>
/// <param name="Headers">Every request header, names lower-cased, each with all of its values.</param>
/// <param name="BodyLength">The number of body bytes received.</param>
/// <param name="BodySha256">The lower-case hex SHA-256 of the whole body.</param>
/// <param name="Body">The first <see cref="EchoHandler.MaxEchoedBodyBytes"/> bytes of the body, decoded as UTF-8.</param>
public sealed record EchoResponse(
    string Instance,
    string Method,
    string Path,
    string Query,
    IReadOnlyDictionary<string, string[]> Headers,
    long BodyLength,
    string BodySha256,
    string Body);
