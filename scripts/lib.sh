# Shared by scripts/main and scripts/bench-deploy: project-local tools and
# the local emulator. Source it from the repository root.

tools="${STACKCTL_TOOLS_DIR:-.tools}"

# A Python tool in its own venv under $tools, installed once per pinned version
# (the same marker the tests use, so they share installs).
install_tool() {
  local venv="$1"; shift
  local marker="$tools/$venv/.installed-$*"
  if [ ! -e "$marker" ]; then
    echo "installing $* into $tools/$venv"
    python3 -m venv --clear "$tools/$venv"
    "$tools/$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
    touch "$marker"
  fi
}

# Starts the emulator on a free port, exports the AWS settings pointing at it,
# and stops it when the calling script exits. Sets $emulator_log.
start_emulator() {
  # cfn-lint comes with moto[server]; pinned, because the launcher reads its resource schemas.
  install_tool moto 'moto[server]==5.2.5' cfn-lint==1.58.0
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  emulator_log="$tools/moto-$port.log"
  "$tools/moto/bin/python" scripts/emulator/moto_server.py -H 127.0.0.1 -p "$port" >"$emulator_log" 2>&1 &
  emulator_pid=$!
  trap 'kill "$emulator_pid" 2>/dev/null; wait "$emulator_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 100); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then break; fi
    kill -0 "$emulator_pid" 2>/dev/null || { echo "the emulator did not start; see $emulator_log" >&2; exit 1; }
    sleep 0.2
  done
  echo "emulator listening on http://127.0.0.1:$port (log: $emulator_log)"
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  unset AWS_PROFILE
}
