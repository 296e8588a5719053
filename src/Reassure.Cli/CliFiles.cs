using Microsoft.ML.OnnxRuntime;
using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using System.CommandLine;

namespace Reassure.Cli;

/// <summary>Shared pieces of the verbs: the --header option, ONNX Runtime sessions with coded errors.</summary>
internal static class CliFiles
{
    /// <summary>The --header option of the verbs that read rows.</summary>
    public static Option<RowsHeader> HeaderOption() => new("--header")
    {
        Description = "Is the first line of the rows CSV a header? auto (default): only when none of its cells is a number; yes; no.",
        DefaultValueFactory = _ => RowsHeader.Auto,
    };

    /// <summary>An ONNX Runtime session on <paramref name="path"/>; RSR1008 (exit 2) when the runtime cannot load it.</summary>
    public static InferenceSession Session(string path)
    {
        if (!File.Exists(path)) throw new ReassureException(ErrorCodes.FileUnreadable, "the model file does not exist", path);
        try
        {
            return new InferenceSession(path);
        }
        catch (OnnxRuntimeException e)
        {
            throw OnnxRuntimeFloat32Evaluator.RuntimeError(e, path);
        }
    }

    /// <summary>The --gpu option of the verbs that run ONNX Runtime on rows.</summary>
    public static Option<int?> GpuOption() => new("--gpu")
    {
        HelpName = "N",
        Description = "Run the ONNX file in ONNX Runtime on CUDA device N (CUDAExecutionProvider). Needs a reassure built with "
            + "Microsoft.ML.OnnxRuntime.Gpu (-p:ReassureGpu=true) and CUDA; without them RSR1080, or the CPU with --fallback-to-cpu.",
    };

    /// <summary>The --fallback-to-cpu option that goes with --gpu.</summary>
    public static Option<bool> FallbackOption() => new("--fallback-to-cpu")
    {
        Description = "With --gpu: when the CUDA provider is unavailable, run on the CPU and say so on stderr (once) instead of failing with RSR1080.",
    };

    /// <summary>RSR1060 for a negative --gpu, or --fallback-to-cpu without --gpu.</summary>
    public static void CheckGpu(int? gpu, bool fallbackToCpu)
    {
        if (gpu is < 0)
            throw new ReassureException(ErrorCodes.InvalidOption, $"--gpu {gpu} is negative; expected a CUDA device number 0, 1, ...", "--gpu");
        if (fallbackToCpu && gpu is null)
            throw new ReassureException(ErrorCodes.InvalidOption, "--fallback-to-cpu applies to a GPU run; expected --gpu N with it", "--fallback-to-cpu");
    }

    /// <summary>
    /// An ONNX Runtime session on <paramref name="path"/>: on the CPU without <paramref name="gpu"/>; on CUDA device
    /// <paramref name="gpu"/> when the provider is there; else RSR1080 (exit 2), or with <paramref name="fallbackToCpu"/>
    /// a CPU session and one line on <paramref name="error"/>. A model ONNX Runtime refuses is RSR1008 as on the CPU.
    /// </summary>
    public static InferenceSession Session(string path, int? gpu, bool fallbackToCpu, TextWriter error)
    {
        CheckGpu(gpu, fallbackToCpu);
        if (gpu is not { } device) return Session(path);
        if (!File.Exists(path)) throw new ReassureException(ErrorCodes.FileUnreadable, "the model file does not exist", path);
        try
        {
            var opened = CudaProvider.Open(so => so is null ? new InferenceSession(path) : new InferenceSession(path, so), device, fallbackToCpu, path);
            if (opened.Warning is not null) error.WriteLine(opened.Warning);
            return opened.Session;
        }
        catch (OnnxRuntimeException e)
        {
            throw OnnxRuntimeFloat32Evaluator.RuntimeError(e, path);
        }
    }

    /// <summary>Loads <paramref name="path"/> in ONNX Runtime and drops it: the check that the runtime accepts the model, before any work.</summary>
    public static void CheckRuntimeLoads(string path)
    {
        using var _ = Session(path);
    }

    /// <summary>The exit-code rules shown in every verb's help.</summary>
    public const string ExitCodes = " Exit codes: 0 success; 1 the work ran but failed (rows not fixed, property not proved, RSR2xxx/RSR3xxx); 2 bad input (RSR1xxx: files, options, output paths).";
}
