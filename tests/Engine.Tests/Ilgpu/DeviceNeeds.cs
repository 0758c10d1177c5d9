namespace Engine.Tests;

/// <summary>
/// Whether a device test runs: it skips, with the reason, where the device is absent; but where the
/// environment promises an OpenCL device (CI sets ENGINE_REQUIRE_OPENCL=1 after installing PoCL with
/// tools/install-pocl.sh), a missing one fails instead of skipping.
/// </summary>
public static class DeviceNeeds
{
    public static void Need(Device device)
    {
        if (Device.Available().Contains(device)) return;
        if (device.Kind == DeviceKind.OpenCL && Environment.GetEnvironmentVariable("ENGINE_REQUIRE_OPENCL") == "1")
            Assert.Fail($"no {device} device, though ENGINE_REQUIRE_OPENCL=1 promises one (tools/install-pocl.sh, then OCL_ICD_VENDORS)");
        Skip.If(true, $"no {device} device on this machine (a real OpenCL device without a GPU: tools/install-pocl.sh)");
    }
}
