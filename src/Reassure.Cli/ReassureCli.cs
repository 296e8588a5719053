using System.CommandLine;
using Reassure.Cli.Commands;

namespace Reassure.Cli;

/// <summary>
/// The `reassure` command line. Exit codes: 0 success, 2 bad input (RSR1xxx errors: files, option values RSR1060,
/// output paths RSR1070-RSR1072, ONNX Runtime refusing the model RSR1008; bad arguments), 1 anything else (the work
/// ran and failed: RSR2xxx, RSR3xxx, rows not fixed, property not proved). Errors are printed as
/// <c>RSRxxxx: where: what</c> to the error writer; an exception no verb maps is printed as <c>error: Type: message</c>, exit 1.
/// </summary>
public static class ReassureCli
{
    /// <summary>Exit code for success.</summary>
    public const int Ok = 0;

    /// <summary>Exit code for errors other than bad input.</summary>
    public const int Failure = 1;

    /// <summary>Exit code for bad input (files, arguments).</summary>
    public const int BadInput = 2;

    /// <summary>Runs the command line with the given writers; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("Reassure: provable repair of ReLU networks (REASSURE, ICLR 2022)." + CliFiles.ExitCodes
            + " Errors are printed as 'RSRxxxx: where: what'.")
        {
            InspectCommand.Create(output, error),
            EvalCommand.Create(output, error),
            RepairCommand.Create(output, error),
            VerifyCommand.Create(output, error),
            AreaCommand.Create(output, error),
            LocalizeCommand.Create(output, error),
            FairCommand.Create(output, error),
        };
        if (args.Length == 0) args = ["--help"]; // bare `reassure`: the verbs and options, not "Required command was not provided."
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) error.WriteLine(e.Message);
            return BadInput;
        }
        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    /// <summary>Runs a command body and maps exceptions to exit codes and messages.</summary>
    internal static int Guard(TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e)
        {
            var (code, message) = Map(e);
            error.WriteLine(message);
            return code;
        }
    }

    /// <summary>The exit code and the message of an exception that ends a verb.</summary>
    internal static (int Code, string Message) Map(Exception e)
    {
        switch (e)
        {
            case AggregateException a when a.Flatten().InnerExceptions.Count == 1:
                return Map(a.Flatten().InnerExceptions[0]);
            case ReassureException r:
                return (r.Code.StartsWith("RSR1", StringComparison.Ordinal) ? BadInput : Failure, r.Message);
            case Microsoft.ML.OnnxRuntime.OnnxRuntimeException o:
                return (BadInput, Formats.Onnx.OnnxRuntimeFloat32Evaluator.RuntimeError(o, "model").Message);
            case IOException or UnauthorizedAccessException:
                return (BadInput, $"{ErrorCodes.FileUnreadable}: {e.Message}");
            default:
                return (Failure, $"error: {e.GetType().Name}: {e.Message}");
        }
    }
}
