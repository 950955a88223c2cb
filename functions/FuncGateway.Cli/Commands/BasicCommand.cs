using System.CommandLine;
using FuncGateway.Authentication.Basic;

namespace FuncGateway.Cli.Commands;

/// <summary><c>fgw basic hash</c>: the PBKDF2 hash to put in <c>FuncGateway:Auth:Policies:&lt;name&gt;:Users:&lt;user&gt;</c>.</summary>
internal static class BasicCommand
{
    public static Command Create(CliContext context)
    {
        var password = new Option<string?>("--password") { Description = "The password (visible in shell history; by default it is read from the first line of stdin).", HelpName = "PASSWORD" };
        var iterations = new Option<int>("--iterations") { Description = $"PBKDF2-HMAC-SHA256 iterations (at least {PasswordHash.MinimumIterations}).", DefaultValueFactory = _ => PasswordHash.DefaultIterations, HelpName = "N" };
        var hash = new Command("hash", "Print the salted PBKDF2 hash of a password, for a Basic policy's Users setting.") { password, iterations };
        hash.SetAction((parseResult, cancellationToken) => context.RunAsync(() =>
        {
            var count = parseResult.GetValue(iterations);
            if (count < PasswordHash.MinimumIterations)
            {
                throw new CliException(ExitCodes.Usage, $"--iterations must be at least {PasswordHash.MinimumIterations}.");
            }

            var secret = parseResult.GetValue(password) ?? Console.In.ReadLine();
            if (string.IsNullOrEmpty(secret))
            {
                throw new CliException(ExitCodes.Usage, "No password: pass --password or write it on stdin.");
            }

            context.Out.WriteLine(PasswordHash.Create(secret, count).ToString());
            return Task.FromResult(ExitCodes.Success);
        }, cancellationToken));
        var basic = new Command("basic", "Tools for Basic authentication policies.");
        basic.Subcommands.Add(hash);
        return basic;
    }
}
