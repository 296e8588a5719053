using Microsoft.ML.OnnxRuntime;

namespace Reassure.Formats.Onnx;

/// <summary>
/// Opt-in GPU inference through ONNX Runtime's CUDA execution provider. The provider is in the native library of the
/// <c>Microsoft.ML.OnnxRuntime.Gpu</c> package, which the app references itself (Reassure's packages bring the CPU
/// library only). Detection never lets a native failure through: a missing provider, a missing CUDA or device is
/// <see cref="ErrorCodes.GpuProviderUnavailable"/> (RSR1080), or, when falling back is allowed, a CPU session and one
/// warning line.
/// </summary>
public static class CudaProvider
{
    /// <summary>ONNX Runtime's name of the CUDA execution provider.</summary>
    public const string Name = "CUDAExecutionProvider";

    /// <summary>The package that brings the CUDA-enabled native library.</summary>
    public const string Package = "Microsoft.ML.OnnxRuntime.Gpu";

    /// <summary>The execution providers the loaded ONNX Runtime library was built with (empty when it cannot be asked).</summary>
    public static IReadOnlyList<string> AvailableProviders()
    {
        try
        {
            return OrtEnv.Instance().GetAvailableProviders();
        }
        catch (Exception e) when (IsRuntimeFailure(e))
        {
            return [];
        }
    }

    /// <summary>
    /// Session options that run on CUDA device <paramref name="deviceId"/>, or null with the <paramref name="reason"/>
    /// when this process cannot have them: the loaded ONNX Runtime has no CUDA provider (the CPU package), or appending
    /// it fails (CUDA or cuDNN libraries missing).
    /// </summary>
    public static SessionOptions? TryOptions(int deviceId, out string reason)
    {
        CheckDevice(deviceId);
        var available = AvailableProviders();
        if (!available.Contains(Name))
        {
            reason = $"the ONNX Runtime library loaded here has no {Name} (it has: {(available.Count == 0 ? "none" : string.Join(", ", available))}): "
                + $"it is the CPU package's; with {Package} referenced, keep Microsoft.ML.OnnxRuntime's native assets out (ExcludeAssets=\"native;build;buildTransitive\")";
            return null;
        }
        try
        {
            reason = "";
            return SessionOptions.MakeSessionOptionWithCudaProvider(deviceId);
        }
        catch (Exception e) when (IsRuntimeFailure(e))
        {
            reason = $"ONNX Runtime cannot add {Name} on device {deviceId}: {OnnxRuntimeFloat32Evaluator.StripAnsi(e.Message)}";
            return null;
        }
    }

    /// <summary>
    /// Opens an ONNX Runtime session with <paramref name="open"/> (its argument: the session options, null for the
    /// default CPU session) on CUDA device <paramref name="deviceId"/>. When CUDA cannot be had: with
    /// <paramref name="fallbackToCpu"/> a CPU session and <see cref="GpuSession.Warning"/> set; without it RSR1080. A
    /// model ONNX Runtime refuses on the CPU as well is not a GPU problem: <paramref name="open"/>'s own exception.
    /// </summary>
    public static GpuSession Open(Func<SessionOptions?, InferenceSession> open, int deviceId, bool fallbackToCpu, string where)
    {
        ArgumentNullException.ThrowIfNull(open);
        var options = TryOptions(deviceId, out var reason);
        if (options is not null)
        {
            try
            {
                return new GpuSession(open(options), deviceId, null);
            }
            catch (Exception e) when (IsRuntimeFailure(e))
            {
                reason = $"ONNX Runtime cannot open the model on {Name} device {deviceId}: {OnnxRuntimeFloat32Evaluator.StripAnsi(e.Message)}";
            }
            finally
            {
                options.Dispose();
            }
        }
        // The model on the CPU: when ONNX Runtime refuses it there too, the model is the problem (open's exception).
        var cpu = open(null);
        if (fallbackToCpu) return new GpuSession(cpu, null, FallbackWarning(deviceId, reason, where));
        cpu.Dispose();
        throw Unavailable(deviceId, reason, where);
    }

    /// <summary>RSR1080: the CUDA provider on <paramref name="deviceId"/> cannot be had, why, and what to do.</summary>
    public static ReassureException Unavailable(int deviceId, string reason, string where) =>
        new(ErrorCodes.GpuProviderUnavailable,
            $"GPU execution provider unavailable: {Name} on CUDA device {deviceId}: {reason}; expected the app to reference {Package} " +
            $"(the same version as Microsoft.ML.OnnxRuntime) on a machine with CUDA, cuDNN and device {deviceId}, or FallbackToCpu (CLI: --fallback-to-cpu) to run on the CPU",
            where);

    /// <summary>The one line that says a GPU run went to the CPU.</summary>
    public static string FallbackWarning(int deviceId, string reason, string where) =>
        $"warning: {ErrorCodes.GpuProviderUnavailable}: {where}: {Name} on CUDA device {deviceId} unavailable ({reason}); running on the CPU (FallbackToCpu)";

    /// <summary>RSR1060 for a negative device id.</summary>
    public static void CheckDevice(int deviceId)
    {
        if (deviceId < 0)
            throw new ReassureException(ErrorCodes.InvalidOption, $"GPU device id {deviceId} is negative; expected a CUDA device number 0, 1, ...", "GpuDeviceId");
    }

    private static bool IsRuntimeFailure(Exception e) =>
        e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or BadImageFormatException;
}

/// <summary>A session opened by <see cref="CudaProvider.Open"/>.</summary>
/// <param name="Session">The session (dispose it).</param>
/// <param name="DeviceId">The CUDA device it runs on; null when it fell back to the CPU.</param>
/// <param name="Warning">The fallback line when it fell back; null otherwise.</param>
public sealed record GpuSession(InferenceSession Session, int? DeviceId, string? Warning) : IDisposable
{
    /// <inheritdoc />
    public void Dispose() => Session.Dispose();
}
