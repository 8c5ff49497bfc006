# Pester 5 suite for SyncTables on a Redis server (New-SyncTable -Redis):
# separate pwsh processes sharing one table, against the private servers the
# test run starts on 127.0.0.1 (SYNCPOOL_REDIS_URI, SYNCPOOL_REDIS_AUTH_URI,
# SYNCPOOL_REDIS_PASSWORD; see TestRedis in build.cs). Without them every
# test here fails: nothing is skipped.

BeforeAll {
    . $PSScriptRoot/TestSupport.ps1
    Import-Module $env:SYNCPOOL_MODULE_PATH -Force
    $script:Uri = $env:SYNCPOOL_REDIS_URI
    $script:AuthUri = $env:SYNCPOOL_REDIS_AUTH_URI
    $script:Password = $env:SYNCPOOL_REDIS_PASSWORD
    if (-not $Uri -or -not $AuthUri -or -not $Password) {
        throw 'SYNCPOOL_REDIS_URI, SYNCPOOL_REDIS_AUTH_URI and SYNCPOOL_REDIS_PASSWORD are not set: run the suites through "dotnet run --file build.cs -- Test", which starts private redis-server instances.'
    }
    foreach ($u in $Uri, $AuthUri) { if ($u -notlike 'redis://127.0.0.1:*') { throw "The Redis test servers must be on 127.0.0.1, not $u." } }

    # A fresh table name per test, so tests never see each other's data.
    function New-TableName { 'pester-' + [guid]::NewGuid().ToString('N').Substring(0, 12) }

    # The start of every child script: stop on errors, open table $Name on $Uri.
    function Get-ChildPreamble([string] $Name, [string] $Address = $Uri, [string] $Extra = '') {
        "`$ErrorActionPreference = 'Stop'; Import-Module '$env:SYNCPOOL_MODULE_PATH'; `$t = New-SyncTable -Name '$Name' -Redis '$Address' $Extra; "
    }

    function Get-FreePort {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop(); $port
    }

    # Runs $Body with a table named $Name on a private redis-server (given the table,
    # the server's process and its port); removes the table and stops the server after.
    function Invoke-OnPrivateRedis([string] $Name, [scriptblock] $Body) {
        $port = Get-FreePort
        $server = Start-PrivateRedis $port
        $t = New-SyncTable -Name $Name -Redis "redis://127.0.0.1:$port/0"
        try { & $Body $t $server $port }
        finally {
            Remove-SyncTable $t -Confirm:$false
            if (-not $server.HasExited) { $server.Kill() }
        }
    }

    # A private redis-server for the tests that stop and restart their server.
    function Start-PrivateRedis([int] $Port) {
        $dir = Join-Path ([IO.Path]::GetTempPath()) "syncpool-pester-redis-$Port"
        $null = New-Item -ItemType Directory -Force $dir
        $psi = [Diagnostics.ProcessStartInfo]::new((Get-Command redis-server -ErrorAction Stop).Source)
        foreach ($a in '--port', $Port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', $dir) { $psi.ArgumentList.Add([string]$a) }
        $psi.UseShellExecute = $false
        $psi.RedirectStandardOutput = $true
        $process = [Diagnostics.Process]::Start($psi)
        $null = $process.StandardOutput.ReadToEndAsync()
        $sw = [Diagnostics.Stopwatch]::StartNew()
        while ($true) {
            try { $c = [Net.Sockets.TcpClient]::new('127.0.0.1', $Port); $c.Dispose(); break }
            catch { if ($sw.Elapsed.TotalSeconds -gt 15) { throw "redis-server did not start on port $Port" }; Start-Sleep -Milliseconds 50 }
        }
        $process
    }
}

Describe 'A SyncTable on a Redis server' {
    BeforeEach { Register-CurrentTest }

    It 'is the same table in another process, with values that round-trip exactly' {
        $name = New-TableName
        $t = New-SyncTable -Name $name -Redis $Uri
        try {
            $t.Int = 42; $t.Long = 5000000000L; $t.Double = 0.1; $t.Text = 'héllo'; $t.True = $true
            $t.Null = $null; $t.Bytes = [byte[]](0, 255, 7); $t.Date = [datetime]::new(2026, 12, 1, 8, 30, 0, [DateTimeKind]::Utc)
            $t.Hash = @{ a = 1; list = @(1, 'two') }; $t.Ordered = [ordered]@{ z = 1; a = 2 }
            $t.Object = [pscustomobject]@{ PSTypeName = 'My.Type'; P = 'q'; N = 3 }; $t.Decimal = 1.25d; $t.Guid = [guid]'6c3b8e1e-8b4e-4c61-9f3a-1f2e3d4c5b6a'
            $t.Process = Get-Process -Id $PID
            $t.Kept = 1
            $child = Invoke-ChildPwsh -TimeoutSeconds 90 -Command ((Get-ChildPreamble $name) + @'
foreach ($k in 'Int', 'Long', 'Double', 'Text', 'True', 'Bytes', 'Date', 'Hash', 'Ordered', 'Object', 'Decimal', 'Guid') { "$k=$($t[$k].GetType().FullName)" }
"Null=$($null -eq $t.Null)/$($t.ContainsKey('Null'))"
"Values=$($t.Double -eq 0.1)/$($t.Text)/$($t.Bytes -join ',')/$($t.Date.Kind)/$($t.Hash.list[1])/$(@($t.Ordered.Keys) -join ',')/$($t.Object.PSTypeNames[0])/$($t.Object.N)/$($t.Guid)"
"Process=$($t.Process.PSTypeNames[0])/$($t.Process.Id)"
$t.Kept = 2; $t.FromChild = 'yes'
'@)
            $child.Error | Should -BeNullOrEmpty
            $child.Output | Should -Contain 'Int=System.Int32'
            $child.Output | Should -Contain 'Long=System.Int64'
            $child.Output | Should -Contain 'Double=System.Double'
            $child.Output | Should -Contain 'True=System.Boolean'
            $child.Output | Should -Contain 'Bytes=System.Byte[]'
            $child.Output | Should -Contain 'Date=System.DateTime'
            $child.Output | Should -Contain 'Hash=System.Collections.Hashtable'
            $child.Output | Should -Contain 'Ordered=System.Collections.Specialized.OrderedDictionary'
            $child.Output | Should -Contain 'Object=System.Management.Automation.PSCustomObject'
            $child.Output | Should -Contain 'Decimal=System.Decimal'
            $child.Output | Should -Contain 'Guid=System.Guid'
            $child.Output | Should -Contain 'Null=True/True'
            $child.Output | Should -Contain 'Values=True/héllo/0,255,7/Utc/two/z,a/My.Type/3/6c3b8e1e-8b4e-4c61-9f3a-1f2e3d4c5b6a'
            $child.Output | Should -Contain "Process=Deserialized.System.Diagnostics.Process/$PID"
            $t.Kept | Should -Be 2
            $t.FROMCHILD | Should -Be 'yes' -Because 'keys ignore case across processes too'
            (Get-SyncTable -Name $name) | Should -Be $t
            $t.RedisAddress | Should -Be $Uri
            "$t" | Should -BeLike "SyncTable '$name' on $Uri (* entries)"
        }
        finally { Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'gives a process in another time zone the same moment for a local DateTime, at the top and nested' {
        $name = New-TableName
        $writer = Invoke-ChildPwsh -TimeoutSeconds 90 -Environment @{ TZ = 'America/New_York' } -Command ((Get-ChildPreamble $name) + @'
$when = [datetime]::new(2024, 6, 1, 12, 0, 0, [DateTimeKind]::Local)
$t.top = $when
$t.nested = [pscustomobject]@{ TimeFinished = $when }
'@)
        $writer.Error | Should -BeNullOrEmpty
        $reader = Invoke-ChildPwsh -TimeoutSeconds 90 -Environment @{ TZ = 'Asia/Tokyo' } -Command ((Get-ChildPreamble $name) + @'
$t.top.ToUniversalTime().ToString('o'), $t.top.Kind, $t.nested.TimeFinished.ToUniversalTime().ToString('o')
Remove-SyncTable $t -DeleteData -Confirm:$false
'@)
        $reader.Error | Should -BeNullOrEmpty
        $reader.Output | Should -Be @('2024-06-01T16:00:00.0000000Z', 'Local', '2024-06-01T16:00:00.0000000Z')
    }

    It 'refuses live objects, naming the key' {
        $t = New-SyncTable -Name (New-TableName) -Redis $Uri
        try {
            { $t.Set('hostKey', $Host) } | Should -Throw '*key ''hostKey''*live*'
            { $t.Set('block', { 1 }) } | Should -Throw '*key ''block''*ScriptBlock*'
            try { $t.Set('self', $t) } catch { $_.Exception.InnerException.ErrorId ?? $_.Exception.ErrorId | Should -Be 'SyncPool.NotSerializable' }
            $t.ContainsKey('hostKey') | Should -BeFalse
            # Also inside data: a dead copy (or a scriptblock's text) would only hide the mistake.
            { $t.h = @{ h = $Host } } | Should -Throw '*key ''h''*live*InternalHost*'
            { $t.a = @(1, { 2 }) } | Should -Throw '*key ''a''*ScriptBlock*'
            { $t.o = [pscustomobject]@{ Runspace = [runspace]::DefaultRunspace } } | Should -Throw '*key ''o''*live*'
            $t.ContainsKey('h') | Should -BeFalse
            # Secrets: CLIXML keeps a SecureString readable outside Windows.
            $secret = ConvertTo-SecureString 'not-for-the-server' -AsPlainText -Force
            { $t.s = $secret } | Should -Throw '*key ''s''*SecureString*readable*'
            { $t.c = [pscredential]::new('u', $secret) } | Should -Throw '*key ''c''*PSCredential*'
            { $t.n = @{ cred = [pscredential]::new('u', $secret) } } | Should -Throw '*key ''n''*holds*PSCredential*'
            # Other objects inside data still go as CLIXML, as at the top level.
            $t.p = @{ when = [datetime]::UtcNow; proc = [Diagnostics.Process]::GetCurrentProcess() }
            $t.p.proc.Id | Should -Be $PID
        }
        finally { Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'counts exactly: 4 processes x 25,000 Increment = 100,000' {
        $name = New-TableName
        $t = New-SyncTable -Name $name -Redis $Uri
        try {
            $script = (Get-ChildPreamble $name) + 'for ($i = 0; $i -lt 25000; $i++) { [void]$t.Increment(''hits'') }; ''done'''
            $children = 1..4 | ForEach-Object { Start-ChildPwsh -Command $script }
            $results = Wait-ChildPwsh -Child $children -TimeoutSeconds 240
            foreach ($r in $results) { $r.Output | Should -Contain 'done'; $r.Error | Should -BeNullOrEmpty }
            $t.hits | Should -Be 100000
        }
        finally { Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'Increment returns large sums exactly (the server''s Lua holds numbers as doubles)' {
        $t = New-SyncTable -Name (New-TableName) -Redis $Uri
        try {
            $t.Increment('big', 123456789012345678) | Should -Be 123456789012345678
            $t.Increment('big', 1) | Should -Be 123456789012345679
            $t.big | Should -Be 123456789012345679
            $t.Increment('fifteen', 100000000000000) | Should -Be 100000000000000
            $t.Increment('fifteen') | Should -Be 100000000000001
            $t.near = [long]::MaxValue - 1
            $t.Increment('near') | Should -Be ([long]::MaxValue)
            { $t.Increment('near') } | Should -Throw '*overflow*nothing was changed*'
        }
        finally { Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'GetOrAdd has exactly one winner across processes' {
        $name = New-TableName
        $t = New-SyncTable -Name $name -Redis $Uri
        try {
            $script = (Get-ChildPreamble $name) + '$null = Wait-SyncTable $t -Key go -Timeout 60; $v = $t.GetOrAdd(''winner'', $PID); "$PID=$v"'
            $children = 1..4 | ForEach-Object { Start-ChildPwsh -Command $script }
            Start-Sleep -Seconds 1
            $t.go = 1
            $results = Wait-ChildPwsh -Child $children -TimeoutSeconds 120
            $lines = $results.Output | Where-Object { $_ -match '^\d+=\d+$' }
            $lines.Count | Should -Be 4
            $seen = $lines | ForEach-Object { ($_ -split '=')[1] } | Sort-Object -Unique
            @($seen).Count | Should -Be 1 -Because 'every process gets the one stored value'
            @($lines | Where-Object { ($_ -split '=')[0] -eq ($_ -split '=')[1] }).Count | Should -Be 1 -Because 'exactly one process added it'
            $t.winner | Should -Be ([int]$seen)
        }
        finally { Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'Update and CompareExchange lose no update across processes' {
        $name = New-TableName
        $t = New-SyncTable -Name $name -Redis $Uri
        try {
            $script = (Get-ChildPreamble $name) + @'
for ($i = 0; $i -lt 300; $i++) { [void]$t.Update('sum', { param($old) [int]$old + 1 }) }
for ($i = 0; $i -lt 300; $i++) { do { $old = $t.cas; $new = [int]$old + 1 } until ($t.CompareExchange('cas', $old, $new)) }
'done'
'@
            $t.cas = 0
            $children = 1..3 | ForEach-Object { Start-ChildPwsh -Command $script }
            $results = Wait-ChildPwsh -Child $children -TimeoutSeconds 180
            foreach ($r in $results) { $r.Output | Should -Contain 'done'; $r.Error | Should -BeNullOrEmpty }
            $t.sum | Should -Be 900
            $t.cas | Should -Be 900
            # A copy read back (a hashtable, an object) is refused as the expected value:
            # it need not encode as the stored value did, and a CAS loop would spin.
            $t.h = @{ a = 1; b = 2 }
            $err = $null
            try { [void]$t.CompareExchange('h', $t.h, 'x') } catch { $err = $_ }
            $err.Exception.InnerException.ErrorId | Should -Be 'SyncPool.InvalidArgument'
            $err.Exception.Message | Should -BeLike '*Hashtable*Update*'
            $t.CompareExchange('cas', 900, 'done') | Should -BeTrue
        }
        finally { Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'Lock excludes other processes (a read-then-write inside it loses nothing)' {
        $name = New-TableName
        $t = New-SyncTable -Name $name -Redis $Uri
        try {
            $t.n = 0
            $script = (Get-ChildPreamble $name) + 'for ($i = 0; $i -lt 100; $i++) { $t.Lock(''n'', { $v = $t.n; $t.n = $v + 1 }) }; ''done'''
            $children = 1..3 | ForEach-Object { Start-ChildPwsh -Command $script }
            $results = Wait-ChildPwsh -Child $children -TimeoutSeconds 180
            foreach ($r in $results) { $r.Output | Should -Contain 'done'; $r.Error | Should -BeNullOrEmpty }
            $t.n | Should -Be 300
        }
        finally { Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'a lock held by a process killed with kill -9 expires, and excludes until then' {
        $name = New-TableName
        $t = New-SyncTable -Name $name -Redis $Uri -LockExpirySeconds 3
        $holder = Start-ChildPwsh -Command ((Get-ChildPreamble $name -Extra '-LockExpirySeconds 3') + '$t.Lock(''res'', { $t.holding = $PID; Start-Sleep -Seconds 600 })')
        try {
            Wait-SyncTable $t -Key holding -Timeout 60 | Out-Null
            { $t.Lock('res', { 'never' }, [timespan]::FromMilliseconds(300), [Threading.CancellationToken]::None) } | Should -Throw '*Could not lock*'
            $holder.Process.Kill()   # SIGKILL: the holder cannot release anything
            $holder.Process.WaitForExit(10000) | Should -BeTrue
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $t.Lock('res', { $script:entered = $true }, [timespan]::FromSeconds(20), [Threading.CancellationToken]::None)
            $script:entered | Should -BeTrue
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 5 -Because 'the lock expires 3 s after it was taken'
        }
        finally {
            if (-not $holder.Process.HasExited) { $holder.Process.Kill($true) }
            Remove-SyncTable $t -DeleteData -Confirm:$false
        }
    }

    It 'a live holder keeps its lock through a critical section far longer than the expiry' {
        $name = New-TableName
        $t = New-SyncTable -Name $name -Redis $Uri -LockExpirySeconds 0.3
        try {
            $t.Lock('slow', {
                # Another process tries to take the lock while this one holds it for seconds (10x the expiry and more).
                $child = Start-ChildPwsh -Command ((Get-ChildPreamble $name) + @'
try { $t.Lock('slow', { $t.tried = 'entered' }, [timespan]::FromMilliseconds(500), [Threading.CancellationToken]::None) } catch { $t.tried = 'excluded' }
'@)
                try {
                    Wait-SyncTable $t -Key tried -Timeout 60 | Out-Null
                    $child.Process.WaitForExit(30000) | Out-Null
                }
                finally { if (-not $child.Process.HasExited) { $child.Process.Kill($true) } }
            })
            $t.tried | Should -Be 'excluded' -Because 'the lock was renewed while its holder lived'
        }
        finally { Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'tells a holder whose lock the server lost before it was done' {
        $name = New-TableName
        $t = New-SyncTable -Name $name -Redis $Uri -LockExpirySeconds 0.3
        $port = ([uri]($Uri -replace '^redis', 'http')).Port
        try {
            $err = $null
            try {
                $t.Lock('slow', {
                    # As after a server restart: the lock key is gone from the server.
                    $locks = @(redis-cli -p $port --scan --pattern "syncpool:{$name}:l:*")
                    $locks.Count | Should -Be 1
                    redis-cli -p $port DEL $locks[0] | Out-Null
                    Start-Sleep -Milliseconds 600
                })
            }
            catch { $err = $_ }
            $err | Should -Not -BeNullOrEmpty
            $err.Exception.InnerException.Code.ToString() | Should -Be 'NotLockOwner'
            $err.Exception.Message | Should -BeLike '*lost*'
            $script:again = $false
            $t.Lock('slow', { $script:again = $true })
            $script:again | Should -BeTrue -Because 'the lock is free again afterwards'
            # The cmdlet: the block's output first, then a terminating SyncPool.NotLockOwner.
            $got = [Collections.Generic.List[object]]::new()
            $err = $null
            try {
                Lock-SyncTable $t slow {
                    'written'
                    redis-cli -p $port DEL (@(redis-cli -p $port --scan --pattern "syncpool:{$name}:l:*")[0]) | Out-Null
                    Start-Sleep -Milliseconds 600
                } | ForEach-Object { $got.Add($_) }
            }
            catch { $err = $_ }
            $got | Should -Be 'written'
            $err.FullyQualifiedErrorId | Should -BeLike 'SyncPool.NotLockOwner*'
            $err.CategoryInfo.Category | Should -Be 'PermissionDenied'
            $err.Exception.Message | Should -BeLike '*lost*'
        }
        finally { Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'a block that fails after its lock was lost reports both: its own error, and the lost lock' {
        $name = New-TableName
        $t = New-SyncTable -Name $name -Redis $Uri -LockExpirySeconds 0.3
        $port = ([uri]($Uri -replace '^redis', 'http')).Port
        $loseLock = {
            redis-cli -p $port DEL (@(redis-cli -p $port --scan --pattern "syncpool:{$name}:l:*")[0]) | Out-Null
            Start-Sleep -Milliseconds 600
        }
        try {
            # The method: the block's exception ends the call; the lost lock rides along on it.
            $err = $null
            try { $t.Lock('slow', { & $loseLock; throw 'the block failed' }) }
            catch { $err = $_ }
            $err | Should -Not -BeNullOrEmpty
            $err.Exception.Message | Should -BeLike '*the block failed*'
            $lost = $t.GetType()::ReleaseFailureOf($err.Exception)
            $lost | Should -Not -BeNullOrEmpty
            $lost.Code.ToString() | Should -Be 'NotLockOwner'
            $lost.Message | Should -BeLike '*lost*'
            # The cmdlet: the block's output, a SyncPool.NotLockOwner error, then the block's own terminating error.
            $got = [Collections.Generic.List[object]]::new()
            $err = $null; $ev = $null
            try {
                Lock-SyncTable $t slow { 'written'; & $loseLock; throw 'the block failed' } -ErrorVariable ev -ErrorAction SilentlyContinue |
                    ForEach-Object { $got.Add($_) }
            }
            catch { $err = $_ }
            $got | Should -Be 'written'
            $err.Exception.Message | Should -Be 'the block failed'
            @($ev | Where-Object FullyQualifiedErrorId -like 'SyncPool.NotLockOwner*').Count | Should -Be 1
            # A break in the block stays a break, with the lost lock reported.
            $ev = $null; $after = $null
            foreach ($i in 1..3) {
                Lock-SyncTable $t slow { & $loseLock; break } -ErrorVariable +ev -ErrorAction SilentlyContinue
                $after = $i
            }
            $after | Should -BeNullOrEmpty -Because 'break left the loop'
            @($ev | Where-Object FullyQualifiedErrorId -like 'SyncPool.NotLockOwner*').Count | Should -Be 1
            $script:again = $false
            $t.Lock('slow', { $script:again = $true })
            $script:again | Should -BeTrue -Because 'the lock is free again afterwards'
        }
        finally { Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'Wait-SyncTable is woken by a write from another process, quickly (median under 50 ms)' {
        $name = New-TableName
        $t = New-SyncTable -Name $name -Redis $Uri
        try {
            $writer = Start-ChildPwsh -Command ((Get-ChildPreamble $name) + @'
$null = Wait-SyncTable $t -Key start -Timeout 60
for ($i = 1; $i -le 15; $i++) { Start-Sleep -Milliseconds 150; $t.tick = [DateTime]::UtcNow.Ticks }
'done'
'@)
            $version = -1
            $t.start = 1
            $latencies = for ($i = 1; $i -le 15; $i++) {
                $woke = Wait-SyncTable $t -Key tick -AfterVersion $version -Timeout 30 -PassThru
                $now = [DateTime]::UtcNow.Ticks
                $version = $t.GetVersion('tick')
                ($now - [long]$woke) / 10000.0
            }
            $r = Wait-ChildPwsh -Child $writer -TimeoutSeconds 60
            $r.Output | Should -Contain 'done'
            $sorted = $latencies | Sort-Object
            $median = $sorted[[int][Math]::Floor($sorted.Count / 2)]
            Write-Host "cross-process wake-up latency: median $([Math]::Round($median, 2)) ms, max $([Math]::Round($sorted[-1], 2)) ms"
            $median | Should -BeLessThan 50
        }
        finally { Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'Wait-SyncTable on a Redis table is interrupted by stopping the pipeline (Ctrl+C)' {
        $t = New-SyncTable -Name (New-TableName) -Redis $Uri
        try {
            $ps = [powershell]::Create().AddCommand('Import-Module').AddArgument($env:SYNCPOOL_MODULE_PATH).AddStatement().AddCommand('Wait-SyncTable').AddParameter('Table', $t).AddParameter('Key', 'never')
            $null = $ps.BeginInvoke()
            Start-Sleep -Milliseconds 500
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 5
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $ps.Dispose()
        }
        finally { Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'Lock-SyncTable waiting for a lock another process holds is interrupted by stopping the pipeline (Ctrl+C)' {
        $name = New-TableName
        $t = New-SyncTable -Name $name -Redis $Uri -LockExpirySeconds 1
        $holder = Start-ChildPwsh -Command ((Get-ChildPreamble $name -Extra '-LockExpirySeconds 1') + 'Lock-SyncTable $t res { $t.holding = $PID; Start-Sleep -Seconds 600 }')
        $ps = [powershell]::Create().AddCommand('Import-Module').AddArgument($env:SYNCPOOL_MODULE_PATH).AddStatement().AddScript('param($t) Lock-SyncTable $t res { $t.entered = 1 }').AddArgument($t)
        try {
            Wait-SyncTable $t -Key holding -Timeout 60 | Out-Null
            $null = $ps.BeginInvoke()
            Start-Sleep -Seconds 3   # three expiries: the live holder's lock is renewed, so the wait goes on
            $ps.InvocationStateInfo.State | Should -Be 'Running'
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 5
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $t.ContainsKey('entered') | Should -BeFalse
        }
        finally {
            if (-not $holder.Process.HasExited) { $holder.Process.Kill($true) }
            $ps.Dispose()
            Remove-SyncTable $t -DeleteData -Confirm:$false
        }
    }

    It 'the methods $t.WaitFor and $t.Lock on a Redis table end when their pipeline is stopped (Ctrl+C)' {
        $name = New-TableName
        $t = New-SyncTable -Name $name -Redis $Uri -LockExpirySeconds 1
        $holder = Start-ChildPwsh -Command ((Get-ChildPreamble $name -Extra '-LockExpirySeconds 1') + 'Lock-SyncTable $t res { $t.holding = $PID; Start-Sleep -Seconds 600 }')
        try {
            Wait-SyncTable $t -Key holding -Timeout 60 | Out-Null
            $n = 0
            foreach ($wait in 'param($t) $t.entered1 = 1; $null = $t.WaitFor(''never'', -1); $t.after = 1', 'param($t) $t.entered2 = 1; $t.Lock(''res'', [Action]{ }); $t.after = 1') {
                $n++
                $ps = [powershell]::Create().AddScript($wait).AddArgument($t)
                $running = $ps.BeginInvoke()
                Wait-SyncTable $t -Key "entered$n" -Timeout 30 | Should -BeTrue
                $running.AsyncWaitHandle.WaitOne(1500) | Should -BeFalse -Because "$wait waits (the live holder renews its lock)"
                $stopping = $ps.BeginStop($null, $null)
                $stopping.AsyncWaitHandle.WaitOne(5000) | Should -BeTrue -Because "stopping the pipeline ends $wait"
                $ps.InvocationStateInfo.State | Should -Be 'Stopped'
                $t.ContainsKey('after') | Should -BeFalse
                $ps.Dispose()
            }
        }
        finally {
            if (-not $holder.Process.HasExited) { $holder.Process.Kill($true) }
            $t.never = 1
            Remove-SyncTable $t -DeleteData -Confirm:$false
        }
    }

    It 'the seed''s case: Start-Job, pwsh -Command and Start-ParallelTask all update the caller''s table' {
        $name = New-TableName
        $t = New-SyncTable -Name $name -Redis $Uri
        try {
            $t.One = 1
            $job = Start-Job -ArgumentList $env:SYNCPOOL_MODULE_PATH, $name, $Uri -ScriptBlock {
                param($module, $name, $uri)
                Import-Module $module
                $hash = New-SyncTable -Name $name -Redis $uri
                $hash.One++   # read-then-write, as in the seed; nobody else writes One meanwhile
                1..50 | ForEach-Object { [void]$hash.Increment('jobs') }
            }
            $null = $job | Wait-Job -Timeout 120
            $job.State | Should -Be 'Completed'
            $job | Remove-Job
            $t.One | Should -Be 2 -Because 'a synchronized hashtable stays at 1 here; a Redis table sees the job''s write'
            $t.jobs | Should -Be 50
            $r = Invoke-ChildPwsh -TimeoutSeconds 90 -Command ((Get-ChildPreamble $name) + '1..50 | ForEach-Object { [void]$t.Increment(''jobs'') }')
            $r.Error | Should -BeNullOrEmpty
            $t.jobs | Should -Be 100
            1..200 | Start-ParallelTask { [void]($using:t).Increment('jobs') } -ThrottleLimit 8 -TimeoutSeconds 120 | Wait-ParallelTask | Out-Null
            $t.jobs | Should -Be 300
        }
        finally { Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'a table given to Start-Job -ArgumentList opens again there with $t | New-SyncTable, and the caller sees every update' {
        $name = New-TableName
        $t = New-SyncTable -Name $name -Redis $Uri
        try {
            $t.One = 1
            $t.SyncPoolName | Should -Be $name
            $t.SyncPoolRedis | Should -Be $t.RedisAddress
            $jobs = 1..2 | ForEach-Object {
                Start-Job -ArgumentList $env:SYNCPOOL_MODULE_PATH, $t -ScriptBlock {
                    param($module, $copy)
                    Import-Module $module
                    $hash = $copy | New-SyncTable
                    $hash.GetType().FullName
                    1..200 | ForEach-Object { [void]$hash.Increment('One') }
                }
            }
            $null = $jobs | Wait-Job -Timeout 120
            $jobs.State | Should -Be 'Completed', 'Completed'
            $types = $jobs | Receive-Job
            $jobs | Remove-Job
            $types | Should -Be 'SyncPool.Table.SyncTable', 'SyncPool.Table.SyncTable'
            $t.One | Should -Be 401 -Because 'both jobs wrote to the caller''s table, not to a copy'
            # Get-SyncTable hands out the same portable table.
            (Get-SyncTable -Name $name).SyncPoolRedis | Should -Be $t.RedisAddress
        }
        finally { Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'an in-process table that reached another process is refused by New-SyncTable instead of starting an empty one' {
        $local = New-SyncTable -InitialValue @{ One = 1 }
        $job = Start-Job -ArgumentList $env:SYNCPOOL_MODULE_PATH, $local -ScriptBlock {
            param($module, $copy)
            Import-Module $module
            try { $copy | New-SyncTable -ErrorAction Stop; 'opened' } catch { $_.FullyQualifiedErrorId }
        }
        $null = $job | Wait-Job -Timeout 120
        $out = $job | Receive-Job
        $job | Remove-Job
        $out | Should -Match 'InputObjectNotBound'
        $local.Dispose()
    }

    It 'enumeration and Snapshot never throw while other processes write' {
        $name = New-TableName
        $t = New-SyncTable -Name $name -Redis $Uri
        try {
            $writer = Start-ChildPwsh -Command ((Get-ChildPreamble $name) + 'for ($i = 0; $i -lt 3000; $i++) { $t["k$($i % 200)"] = $i; if ($i % 7 -eq 0) { $t.Remove("k$(($i + 3) % 200)") } }; ''done''')
            $reads = 0
            while (-not $writer.Process.HasExited) {
                $snap = $t.Snapshot(); $n = 0; foreach ($e in $t.GetEnumerator()) { $n++ }
                $null = $t.Keys; $null = $t.Count
                $reads++
            }
            $r = Wait-ChildPwsh -Child $writer -TimeoutSeconds 120
            $r.Output | Should -Contain 'done'
            $reads | Should -BeGreaterThan 0
            $t.Count | Should -BeGreaterThan 0
        }
        finally { Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'Export-SyncTable and Import-SyncTable work with a Redis table (the import in batches)' {
        $source = New-SyncTable
        for ($i = 0; $i -lt 3000; $i++) { $source["k$i"] = $i }
        $source.Nested = @{ list = @(1, 2); when = [datetime]::new(2026, 1, 2, 3, 4, 5, [DateTimeKind]::Utc) }
        $source[7] = 'int key'
        $file = Join-Path ([IO.Path]::GetTempPath()) "$(New-TableName).json"
        $t = New-SyncTable -Name (New-TableName) -Redis $Uri
        try {
            $source | Export-SyncTable $file -Force
            Import-SyncTable $file -Table $t
            $t.Count | Should -Be 3002
            $t.k2999 | Should -Be 2999
            $t[7] | Should -Be 'int key'
            $t.Nested.list[1] | Should -Be 2
            $t.Nested.when.Kind | Should -Be 'Utc'
            $again = "$file.again.json"
            $t | Export-SyncTable $again -Force
            (Import-SyncTable $again).Count | Should -Be 3002
            Remove-Item $again
        }
        finally { Remove-Item $file -ErrorAction SilentlyContinue; Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'Remove-SyncTable disconnects (data kept); -DeleteData deletes it, behind -WhatIf/-Confirm' {
        $name = New-TableName
        $a = New-SyncTable -Name $name -Redis $Uri
        $a.x = 1
        Remove-SyncTable $a -Confirm:$false
        { $a.Increment('x') } | Should -Throw '*disconnected*'
        $b = New-SyncTable -Name $name -Redis $Uri
        $b.x | Should -Be 1 -Because 'disconnecting keeps the data'
        Remove-SyncTable $b -DeleteData -WhatIf
        $b.x | Should -Be 1
        # -DeleteData asks as a high-impact change does: a host that cannot ask deletes nothing.
        $child = Invoke-ChildPwsh -TimeoutSeconds 60 -Command "Import-Module '$env:SYNCPOOL_MODULE_PATH'; `$t = New-SyncTable -Name '$name' -Redis '$Uri'; Remove-SyncTable `$t -DeleteData; 'after'"
        $child.Output | Should -Contain 'after'
        $child = Invoke-ChildPwsh -TimeoutSeconds 60 -Command "Import-Module '$env:SYNCPOOL_MODULE_PATH'; `$t = New-SyncTable -Name '$name' -Redis '$Uri'; Remove-SyncTable `$t -DeleteData -ErrorVariable e -ErrorAction SilentlyContinue; 'after'; `$e[0].FullyQualifiedErrorId; `$e[0].CategoryInfo.Category"
        $child.Output | Should -Contain 'SyncPool.ConfirmationRequired,SyncPool.Cmdlets.RemoveSyncTableCommand'
        $child.Output | Should -Contain 'InvalidOperation'
        $b.x | Should -Be 1 -Because 'nobody confirmed the deletion'
        Remove-SyncTable $b -DeleteData -Confirm:$false
        $b.IsDisposed | Should -BeTrue
        $c = New-SyncTable -Name $name -Redis $Uri
        try { $c.Count | Should -Be 0 } finally { Remove-SyncTable $c -DeleteData -Confirm:$false }
    }
}

Describe 'Faults of a Redis table' {
    BeforeEach { Register-CurrentTest }

    It 'no server at the address: an error naming it within 5 s' {
        $port = Get-FreePort
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $err = $null
        try { New-SyncTable -Name x -Redis "redis://127.0.0.1:$port/0" } catch { $err = $_ }
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 5
        $err.FullyQualifiedErrorId | Should -BeLike 'SyncPool.RedisUnreachable*'
        $err.CategoryInfo.Category | Should -Be 'ConnectionError'
        $err.Exception.Message | Should -BeLike "*redis://127.0.0.1:$port/0*"
        Get-SyncTable -Name x -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'a server that takes the connection but never answers, or speaks another protocol: an error within 5 s' {
        $silent = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $other = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $silent.Start(); $other.Start()
        # The other protocol: an HTTP-like reply to whoever connects.
        $answer = [powershell]::Create().AddScript({
            param($l)
            $c = $l.AcceptTcpClient(); $s = $c.GetStream()
            $b = [Text.Encoding]::ASCII.GetBytes("HTTP/1.0 400 Bad Request`r`n`r`n"); $s.Write($b, 0, $b.Length)
            Start-Sleep -Seconds 10; $c.Dispose()
        }).AddArgument($other)
        $handle = $answer.BeginInvoke()
        try {
            foreach ($case in @{ Listener = $silent; Says = '*did not answer within*' }, @{ Listener = $other; Says = '*did not answer as a Redis server does*' }) {
                $port = $case.Listener.LocalEndpoint.Port
                $sw = [Diagnostics.Stopwatch]::StartNew()
                $err = $null
                try { New-SyncTable -Name x -Redis "redis://127.0.0.1:$port/0" } catch { $err = $_ }
                $sw.Elapsed.TotalSeconds | Should -BeLessThan 5
                $err.FullyQualifiedErrorId | Should -BeLike 'SyncPool.RedisUnreachable*'
                $err.Exception.Message | Should -BeLike $case.Says
                $err.Exception.Message | Should -BeLike "*redis://127.0.0.1:$port/0*"
            }
        }
        finally {
            $silent.Stop(); $other.Stop()
            $null = $answer.BeginStop($null, $null)
        }
    }

    It 'bad addresses are refused with an example; rediss:// is refused clearly' {
        foreach ($bad in 'http://127.0.0.1:6379', '127.0.0.1:6379', 'redis://127.0.0.1:notaport/0', 'redis://127.0.0.1:6379/x') {
            $err = $null
            try { New-SyncTable -Name x -Redis $bad } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -BeLike 'SyncPool.InvalidArgument*'
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -BeLike '*redis://127.0.0.1:6379/0*'
        }
        $err = $null
        try { New-SyncTable -Name x -Redis 'rediss://127.0.0.1:6380/0' } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'SyncPool.InvalidArgument*'
        $err.Exception.Message | Should -BeLike '*TLS*not supported*'
        { New-SyncTable -Redis $Uri } | Should -Throw -Because '-Name is required with -Redis'
        # The name sits between braces in the server's keys: a brace in it could reach another table's keys.
        $err = $null
        try { New-SyncTable -Name 'jobs}:l:archive' -Redis $Uri } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'SyncPool.InvalidArgument*'
        $err.Exception.Message | Should -BeLike "*'jobs}:l:archive'*"
    }

    It 'a wrong or missing password and an unknown database are clear errors' {
        $wrong = [pscredential]::new('default', (ConvertTo-SecureString 'not-the-password' -AsPlainText -Force))
        $err = $null
        try { New-SyncTable -Name x -Redis $AuthUri -Credential $wrong } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'SyncPool.RedisAuthenticationFailed*'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err = $null
        try { New-SyncTable -Name x -Redis $AuthUri } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'SyncPool.RedisAuthenticationFailed*'
        $err.Exception.Message | Should -BeLike '*-Credential*'
        $good = [pscredential]::new('default', (ConvertTo-SecureString $Password -AsPlainText -Force))
        $err = $null
        try { New-SyncTable -Name x -Redis ($AuthUri -replace '/0$', '/99') -Credential $good } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'SyncPool.RedisUnknownDatabase*'
        $t = New-SyncTable -Name (New-TableName) -Redis $AuthUri -Credential $good
        try { $t.Increment('n') | Should -Be 1 } finally { Remove-SyncTable $t -DeleteData -Confirm:$false }
    }

    It 'a server restart: operations in flight fail clearly, later ones reconnect by themselves' {
        $port = Get-FreePort
        $server = Start-PrivateRedis $port
        $t = New-SyncTable -Name restart -Redis "redis://127.0.0.1:$port/0"
        try {
            $t.Increment('n') | Should -Be 1
            $ps = [powershell]::Create().AddCommand('Import-Module').AddArgument($env:SYNCPOOL_MODULE_PATH).AddStatement().AddCommand('Wait-SyncTable').AddParameter('Table', $t).AddParameter('Key', 'never').AddParameter('Timeout', 60)
            $handle = $ps.BeginInvoke()
            Start-Sleep -Milliseconds 500
            $server.Kill(); $server.WaitForExit()
            $handle.AsyncWaitHandle.WaitOne(15000) | Should -BeTrue -Because 'a wait in progress fails instead of sleeping through writes it cannot hear'
            $ps.InvocationStateInfo.Reason.ErrorRecord.FullyQualifiedErrorId | Should -BeLike 'SyncPool.RedisConnectionLost*'
            $ps.Dispose()
            $err = $null
            try { [void]$t.Increment('n') } catch { $err = $_ }
            $err.Exception.InnerException.Code.ToString() | Should -BeIn 'RedisOutcomeUnknown', 'RedisUnreachable'
            if ($err.Exception.InnerException.Code.ToString() -eq 'RedisOutcomeUnknown') { $err.Exception.Message | Should -BeLike '*outcome is unknown*' }
            $server = Start-PrivateRedis $port
            $t.Increment('n') | Should -Be 1 -Because 'the restarted server (no persistence) starts empty, and the table reconnects by itself'
            $t.x = 'after'
            $t.x | Should -Be 'after'
        }
        finally {
            Remove-SyncTable $t -Confirm:$false
            if (-not $server.HasExited) { $server.Kill() }
        }
    }

    It 'a server that stops answering mid-run: a call fails once its reply is late, without doubling the wait' {
        Invoke-OnPrivateRedis stuck {
            param($t, $server)
            try {
                [void]$t.Increment('n')
                Start-Sleep -Milliseconds 1200   # idle: the next change checks its connection first
                & kill -STOP $server.Id
                $sw = [Diagnostics.Stopwatch]::StartNew()
                $err = $null
                try { [void]$t.Increment('n') } catch { $err = $_ }
                $sw.Elapsed.TotalSeconds | Should -BeLessThan 20 -Because 'one reply timeout (15 s), not one per connection tried'
                $err.Exception.InnerException.Code.ToString() | Should -Be 'RedisConnectionLost'
                $err.Exception.Message | Should -BeLike '*no reply within 15 s*Nothing was changed*'
                & kill -CONT $server.Id
                $t.Increment('n') | Should -Be 2 -Because 'the failed Increment was never sent'
            }
            finally { & kill -CONT $server.Id 2>$null }
        }
    }

    It 'reads PowerShell will not let throw report a server that is down instead of answering $null' {
        Invoke-OnPrivateRedis down {
            param($t, $server, $port)
            $t.a = 'hello'
            $server.Kill(); $server.WaitForExit()
            foreach ($read in { $t.a }, { $t['a'] }, { $t.Count }, { $t.Keys }, { $t.Values }) {
                $got = @(& $read 2>&1)
                $errors = @($got | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
                $errors.Count | Should -Be 1 -Because "$read must report the failed read"
                $errors[0].FullyQualifiedErrorId | Should -BeIn 'SyncPool.RedisUnreachable', 'SyncPool.RedisConnectionLost'
                $errors[0].CategoryInfo.Category | Should -Be 'ConnectionError'
                $errors[0].Exception.Message | Should -BeLike "*127.0.0.1:$port*"
                $values = @($got | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
                foreach ($v in $values) { "$v" | Should -BeIn '(SyncTable read failed)', '-1' }
            }
            # The table's own properties still answer quietly.
            $t.Name | Should -Be 'down'
            $t.IsDisposed | Should -BeFalse
        }
    }

    It 'a signal landing on a thread that waits for a reply fails nothing (a read with a timeout ends with EINTR)' {
        # .NET handles SIGCHLD (a Start-Job process or native command that ends); the kernel may
        # hand it to any thread. Here it is sent to the reading thread itself, about once a millisecond.
        if (-not ('SyncPoolTest.ThreadSignals' -as [type])) {
            Add-Type -Namespace SyncPoolTest -Name ThreadSignals -MemberDefinition @'
[System.Runtime.InteropServices.DllImport("libc", SetLastError = true)] public static extern long syscall(long number, long a, long b, long c);
[System.Runtime.InteropServices.DllImport("libc")] public static extern int getpid();
'@
        }
        $calls = switch ([System.Runtime.InteropServices.RuntimeInformation]::ProcessArchitecture) {
            'X64' { @{ GetTid = 186; TgKill = 234 } }
            'Arm64' { @{ GetTid = 178; TgKill = 131 } }
            default { throw "This test knows the gettid and tgkill system call numbers of x64 and arm64 only, not of $_." }
        }
        $sigChld = 17
        [System.Diagnostics.Process]::Start('/bin/true').WaitForExit() # .NET handles SIGCHLD from its first process on
        $t = New-SyncTable -Name (New-TableName) -Redis $Uri
        $t.a = 1
        $shared = New-SyncTable
        $stop = [System.Threading.ManualResetEventSlim]::new($false)
        $reader = [powershell]::Create()
        $null = $reader.AddScript({
                param($t, $shared, $stop, $getTid)
                $shared.Reader = [SyncPoolTest.ThreadSignals]::syscall($getTid, 0, 0, 0)
                $reads = 0; $fails = 0; $first = $null
                while (-not $stop.IsSet) {
                    try { $null = $t.ContainsKey('a'); $reads++ } catch { $fails++; if ($null -eq $first) { $first = $_.Exception.InnerException.Message } }
                }
                [pscustomobject]@{ Reads = $reads; Fails = $fails; First = $first }
            }).AddArgument($t).AddArgument($shared).AddArgument($stop).AddArgument($calls.GetTid)
        $handle = $reader.BeginInvoke()
        try {
            $shared.WaitFor('Reader', 10000) | Should -BeTrue
            $processId = [SyncPoolTest.ThreadSignals]::getpid()
            $sent = 0
            $until = [DateTime]::UtcNow.AddSeconds(3)
            while ([DateTime]::UtcNow -lt $until) {
                if ([SyncPoolTest.ThreadSignals]::syscall($calls.TgKill, $processId, $shared.Reader, $sigChld) -eq 0) { $sent++ }
                [System.Threading.Thread]::Sleep(1)
            }
        }
        finally {
            $stop.Set()
        }
        $handle.AsyncWaitHandle.WaitOne(30000) | Should -BeTrue
        $result = $reader.EndInvoke($handle)[0]
        $reader.Dispose()
        $sent | Should -BeGreaterThan 500
        $result.Reads | Should -BeGreaterThan 100
        $result.Fails | Should -Be 0 -Because "no call may fail for a signal (first failure: $($result.First))"
        Remove-SyncTable $t -DeleteData -Confirm:$false
    }

    It 'a server restart while processes increment: failures are clear, the processes carry on' {
        $port = Get-FreePort
        $server = Start-PrivateRedis $port
        $address = "redis://127.0.0.1:$port/0"
        $t = New-SyncTable -Name restart2 -Redis $address
        try {
            $script = (Get-ChildPreamble 'restart2' $address) + @'
$ok = 0; $failed = @{}; $sw = [Diagnostics.Stopwatch]::StartNew()
while ($sw.Elapsed.TotalSeconds -lt 8) {
    try { [void]$t.Increment('n'); $ok++ } catch { $id = $_.Exception.InnerException.Code ?? $_.FullyQualifiedErrorId; $failed["$id"]++; Start-Sleep -Milliseconds 50 }
}
"ok=$ok"; foreach ($k in $failed.Keys) { "failed:$k=$($failed[$k])" }
$after = $t.Increment('final'); "final=$after"
'@
            $child = Start-ChildPwsh -Command $script
            Wait-SyncTable $t -Key n -Timeout 60 | Out-Null
            Start-Sleep -Seconds 1
            $server.Kill(); $server.WaitForExit()
            Start-Sleep -Seconds 1
            $server = Start-PrivateRedis $port
            $r = Wait-ChildPwsh -Child $child -TimeoutSeconds 90
            $r.Output | Should -Contain 'final=1'
            $failures = $r.Output | Where-Object { $_ -like 'failed:*' }
            $failures | Should -Not -BeNullOrEmpty -Because 'the increments while the server was down failed'
            foreach ($f in $failures) { $f | Should -Match '^failed:(RedisOutcomeUnknown|RedisUnreachable|RedisConnectionLost)=' }
        }
        finally {
            Remove-SyncTable $t -Confirm:$false
            if (-not $server.HasExited) { $server.Kill() }
        }
    }
}

Describe 'The password of a Redis table stays secret' {
    BeforeEach { Register-CurrentTest }

    It 'never appears in output, errors, verbose or debug text, ToString, formats, Get-SyncTable, exports or the serialized table' {
        $name = New-TableName
        $port = ([uri]($AuthUri -replace '^redis', 'http')).Port
        $export = Join-Path ([IO.Path]::GetTempPath()) "$name.json"
        # The password reaches the child through its environment, so that the
        # script's own text (which PowerShell quotes in error views) holds none.
        $script = @"
`$ErrorActionPreference = 'Continue'; `$VerbosePreference = 'Continue'; `$DebugPreference = 'Continue'; `$PSStyle.OutputRendering = 'PlainText'
Import-Module '$env:SYNCPOOL_MODULE_PATH'
`$pw = `$env:SYNCPOOL_TEST_SECRET
`$cred = [pscredential]::new('default', (ConvertTo-SecureString `$pw -AsPlainText -Force))
`$t = New-SyncTable -Name '$name' -Redis '$AuthUri' -Credential `$cred -Verbose
`$inUri = "redis://:`$pw@127.0.0.1:$port/0"
`$u = New-SyncTable -Name '$name-uri' -Redis `$inUri -Verbose
`$t.a = 1; `$u.b = 2
"`$t"; "`$u"; `$t.ToString(); `$t | Format-List * | Out-String; `$t | Format-Table | Out-String; `$u | Out-String
Get-SyncTable | Format-List * | Out-String; Get-SyncTable | Select-Object * | Out-String; `$t.psobject.Properties | Out-String
[System.Management.Automation.PSSerializer]::Serialize(`$t); [System.Management.Automation.PSSerializer]::Serialize(`$u)   # what Start-Job -ArgumentList sends
`$t | Export-SyncTable '$export' -Force
`$bad = "redis://:`$pw-wrong@127.0.0.1:$port/0", "redis://:`$pw@127.0.0.1:1/0", "redis://:`$pw@127.0.0.1:$port/99", "redis://:`$pw@127.0.0.1:$port/x", "rediss://:`$pw@127.0.0.1:$port/0",
    # pasted unescaped or with the '@host' forgotten: the parser must not quote any of it back
    "redis://app:Ab3/`$pw@127.0.0.1:$port/x", "redis://app:1/`$pw@127.0.0.1:port/0", "redis://admin:`$pw", "redis://admin:`$pw/0"
foreach (`$b in `$bad) {
    try { New-SyncTable -Name bad -Redis `$b -Verbose } catch { `$_.FullyQualifiedErrorId; `$_ | Format-List * -Force | Out-String; `$_.Exception | Format-List * -Force | Out-String; `$_.Exception.ToString() }
}
try { New-SyncTable -Name bad -Redis '$AuthUri' -Credential ([pscredential]::new('default', (ConvertTo-SecureString "`$pw-x" -AsPlainText -Force))) } catch { `$_ | Out-String }
`$Error | Out-String
Remove-SyncTable `$t -DeleteData -Confirm:`$false -Verbose; Remove-SyncTable `$u -DeleteData -Confirm:`$false -Verbose
'finished'
"@
        try {
            $r = Invoke-ChildPwsh -TimeoutSeconds 120 -Command $script -Environment @{ SYNCPOOL_TEST_SECRET = $Password }
            $r.Output | Should -Contain 'finished'
            $all = ($r.Output -join "`n") + "`n" + $r.Error + "`n" + (Get-Content $export -Raw)
            $all | Should -Match "SyncTable '$name' on redis://127.0.0.1:$port/0" -Because 'the output is there to be searched'
            $all | Should -Match 'RedisAuthenticationFailed'
            $all | Should -Match 'RedisUnreachable'
            $all.Contains($Password) | Should -BeFalse -Because 'no text the user can see may hold the password'
        }
        finally { Remove-Item $export -ErrorAction SilentlyContinue }
    }
}
