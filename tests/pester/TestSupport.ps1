# Helpers every Pester suite dot-sources in its BeforeAll.
#
# - Get-PwshCommand / Invoke-ChildPwsh: start a child pwsh exactly like the
#   one running the tests (under the pinned dotnet tool that is the dotnet host
#   plus pwsh.dll), always under a time limit, so a hang in a child becomes a
#   failure naming the test instead of a stalled run.
# - Register-CurrentTest: records which test is running, so the runner can
#   name the test when it has to kill a hung suite.

# The program and leading arguments that start a fresh pwsh like this one.
# [Environment]::ProcessPath alone is the dotnet host under 'dotnet tool run pwsh'.
function Get-PwshCommand {
    $exe = [Environment]::ProcessPath
    $entry = [Environment]::GetCommandLineArgs()[0]
    if ($entry -like '*.dll') { return [pscustomobject]@{ File = $exe; Prefix = @($entry) } }
    [pscustomobject]@{ File = $exe; Prefix = @() }
}

<#
Runs a script in a child pwsh (no profile, non-interactive) with a time limit.
Returns an object with ExitCode, Output (stdout lines) and Error (stderr text).
A child that outlives -TimeoutSeconds is killed (with its own children) and
the call throws, naming the limit.
#>
function Invoke-ChildPwsh {
    param(
        [Parameter(Mandatory)] [string] $Command,
        [int] $TimeoutSeconds = 120,
        [string] $WorkingDirectory = [IO.Path]::GetTempPath(),
        [hashtable] $Environment = @{}
    )
    $child = Start-ChildPwsh -Command $Command -WorkingDirectory $WorkingDirectory -Environment $Environment
    Wait-ChildPwsh -Child $child -TimeoutSeconds $TimeoutSeconds
}

# Called from each suite's BeforeEach: the runner reads this file when it has
# to kill a suite that exceeded its time limit.
function Register-CurrentTest {
    if (-not $env:SYNCPOOL_TEST_PROGRESS) { return }
    $test = (Get-Variable -Name ____Pester -ValueOnly -ErrorAction SilentlyContinue).CurrentTest
    $name = if ($test) { $test.ExpandedPath } else { 'unknown test' }
    [IO.File]::WriteAllText($env:SYNCPOOL_TEST_PROGRESS, $name)
}

# Runs $Body with a time limit in a background runspace of this process, for
# waits that are meant to return by themselves; throws if they do not.
function Invoke-WithTimeLimit {
    param([Parameter(Mandatory)] [scriptblock] $Body, [int] $TimeoutSeconds = 30, [object[]] $ArgumentList = @())
    $ps = [powershell]::Create()
    try {
        $null = $ps.AddScript($Body.ToString())
        foreach ($a in $ArgumentList) { $null = $ps.AddArgument($a) }
        $handle = $ps.BeginInvoke()
        if (-not $handle.AsyncWaitHandle.WaitOne($TimeoutSeconds * 1000)) {
            $null = $ps.BeginStop($null, $null)
            throw "The block did not finish within $TimeoutSeconds s."
        }
        $ps.EndInvoke($handle)
    }
    finally {
        if ($ps.InvocationStateInfo.State -ne 'Running') { $ps.Dispose() }
    }
}

<#
Starts a script in a child pwsh without waiting (several children then run at
once); collect each with Wait-ChildPwsh, which enforces the time limit.
#>
function Start-ChildPwsh {
    param(
        [Parameter(Mandatory)] [string] $Command,
        [string] $WorkingDirectory = [IO.Path]::GetTempPath(),
        [hashtable] $Environment = @{}
    )
    $pwsh = Get-PwshCommand
    $psi = [Diagnostics.ProcessStartInfo]::new($pwsh.File)
    foreach ($a in $pwsh.Prefix) { $psi.ArgumentList.Add($a) }
    foreach ($a in '-NoProfile', '-NonInteractive', '-OutputFormat', 'Text', '-EncodedCommand',
        [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($Command))) { $psi.ArgumentList.Add($a) }
    $psi.WorkingDirectory = $WorkingDirectory
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.RedirectStandardInput = $true
    $psi.UseShellExecute = $false
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $process = [Diagnostics.Process]::Start($psi)
    $process.StandardInput.Close()
    [pscustomobject]@{
        Process = $process
        Stdout  = $process.StandardOutput.ReadToEndAsync()
        Stderr  = $process.StandardError.ReadToEndAsync()
    }
}

# Waits for children from Start-ChildPwsh (all within one time limit);
# kills every child and throws when the limit passes first.
function Wait-ChildPwsh {
    param([Parameter(Mandatory)] [object[]] $Child, [int] $TimeoutSeconds = 120)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    foreach ($c in $Child) {
        $left = [Math]::Max(0, ($deadline - [DateTime]::UtcNow).TotalMilliseconds)
        if (-not $c.Process.WaitForExit([int]$left)) {
            foreach ($k in $Child) { if (-not $k.Process.HasExited) { $k.Process.Kill($true) } }
            throw "A child pwsh did not finish within $TimeoutSeconds s and was killed. Its output so far:`n$($c.Stdout.Result)`n$($c.Stderr.Result)"
        }
    }
    foreach ($c in $Child) {
        $c.Process.WaitForExit()
        [pscustomobject]@{
            ExitCode = $c.Process.ExitCode
            Output   = @($c.Stdout.Result -split "`r?`n" | Where-Object { $_ -ne '' })
            Error    = $c.Stderr.Result
        }
        $c.Process.Dispose()
    }
}

# Peak number of overlapping [Start, End] intervals (how many tasks ran at once).
function Get-PeakOverlap($Intervals) {
    $events = foreach ($i in $Intervals) {
        [pscustomobject]@{ At = $i.Start.Ticks; Delta = 1 }
        [pscustomobject]@{ At = $i.End.Ticks; Delta = -1 }
    }
    $now = 0; $peak = 0
    foreach ($e in ($events | Sort-Object At, Delta)) { $now += $e.Delta; if ($now -gt $peak) { $peak = $now } }
    $peak
}
