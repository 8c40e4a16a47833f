# OptLab as a container image: one Streamlit process with the classroom settings of
# .streamlit/config.toml, listening on 8501. For a department or a MOOC run several behind a
# load balancer with cookie affinity: deploy/k8s/ (README: Running it for a class).
#
#   docker build -t optlab .
#   docker run --rm -p 8501:8501 -e STREAMLIT_SERVER_COOKIE_SECRET="$(openssl rand -base64 32)" optlab
#
# Give each container a core of its own (docker run --cpuset-cpus 0, the next one 1, ...; in
# Kubernetes the static CPU manager does it, see deploy/k8s/deployment.yaml): a Streamlit
# process's session threads take turns on the GIL, and kept on one core they spend a third less
# CPU per page run than when the kernel moves them between cores (bench/load_sessions.py --cpu).
# Replicas behind one balancer must share STREAMLIT_SERVER_COOKIE_SECRET (Streamlit's
# server.cookieSecret); the port and address come from STREAMLIT_SERVER_PORT/ADDRESS.
# tests/test_deploy_image.py runs this file's RUN, CMD and HEALTHCHECK commands outside Docker.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

WORKDIR /app

# Dependencies first: this layer is rebuilt only when they change, not with every page edit.
COPY requirements.txt pyproject.toml ./
COPY optlab ./optlab
RUN pip install -r requirements.txt

COPY . .

# Never root: a uid without a shell or a home directory of value.
RUN groupadd --gid 10001 optlab \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin optlab
USER 10001:10001

EXPOSE 8501
HEALTHCHECK --interval=15s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('STREAMLIT_SERVER_PORT', '8501'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/_stcore/health', timeout=4).read() == b'ok' else 1)"]
CMD ["streamlit", "run", "app.py"]
