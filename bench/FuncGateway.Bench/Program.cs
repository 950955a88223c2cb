using FuncGateway.Bench;

// One executable, one sub-command per role, so bench/run.sh builds a single project.
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("""
        FuncGateway.Bench — helpers for bench/run.sh (run that script; these are its building blocks)
          upstream --port-file FILE                       Kestrel on 127.0.0.1:0 answering GET with "ok"
          yarp --upstream URL --port-file FILE            bare YARP IHttpForwarder in front of URL
          seed --connection-string CS --prefix P --routes N --upstream URL [--rate-limited true] [--transforms true] [--cache true] [--validation true] [--body-transforms true] [--policies-dir DIR]
                                                          writes N routes and one pool into {P}Routes/{P}Upstreams
                                                          (and two routes limited by the policies fast and strict;
                                                          and tx-plain and tx-headers, with header-only Transforms;
                                                          and the JWT, API key and full-policy routes, with the
                                                          JWKS, token and API key written to DIR)
          load --url URL --connections C --seconds S [--header "Name: value"]
                                                          closed-loop HTTP/1.1 keep-alive load; prints one JSON line
          report --input RAW.jsonl --output FILE.json [--command TEXT] [--tool NAME]
                                                          medians across rounds, ratios, table
        """);
    return args.Length == 0 ? 2 : 0;
}

var options = CommandLine.Parse(args.AsSpan(1));
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

try
{
    return args[0] switch
    {
        "upstream" => await BenchUpstream.RunAsync(options, stop.Token),
        "yarp" => await BareYarpForwarder.RunAsync(options, stop.Token),
        "seed" => await RouteSeeder.RunAsync(options, stop.Token),
        "load" => await LoadGenerator.RunAsync(options, stop.Token),
        "report" => BenchReport.Run(options),
        _ => throw new UsageException($"Unknown command '{args[0]}'. Run with --help."),
    };
}
catch (UsageException ex)
{
    await Console.Error.WriteLineAsync("error: " + ex.Message);
    return 2;
}
