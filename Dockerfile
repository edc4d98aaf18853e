FROM python:3.11-slim
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir . && useradd --system audora
USER audora
EXPOSE 8443
CMD ["audora", "serve"]
